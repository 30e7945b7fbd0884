// Verifies one ginfresh access token with jose, every check on.
//
// Run by the Go tests in ..: it loads jose, prints "ready", reads the token
// from stdin and verifies it at once: zero clock tolerance, a maxTokenAge
// (which compares iat with the clock), the algorithm pinned, typ "at+jwt"
// (RFC 9068, so a refresh token is refused), issuer, audience and subject
// checked, and exp, iat, nbf, jti and sid required. The key is an HMAC
// secret or the issuer's JWK Set URL. It prints the verified claims as one
// JSON object, or "refused: <code>: <reason>" on stderr and exits 1.
// Anything else exits with a stack trace, which the tests do not mistake
// for a refusal.
import { parseArgs } from 'node:util';
import { createRemoteJWKSet, jwtVerify, errors } from 'jose';

const { values: args } = parseArgs({
  options: {
    alg: { type: 'string' },
    'secret-hex': { type: 'string' },
    'jwks-url': { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
    subject: { type: 'string' },
  },
  strict: true,
});

const key = args['jwks-url']
  ? createRemoteJWKSet(new URL(args['jwks-url']))
  : new Uint8Array(Buffer.from(args['secret-hex'], 'hex'));

process.stdout.write('ready\n');
let token = '';
for await (const chunk of process.stdin) token += chunk;
token = token.trim();

let payload;
try {
  ({ payload } = await jwtVerify(token, key, {
    algorithms: [args.alg],
    typ: 'at+jwt',
    issuer: args.issuer,
    audience: args.audience,
    subject: args.subject,
    clockTolerance: 0,
    maxTokenAge: 60, // seconds: the token was issued a moment ago
    requiredClaims: ['exp', 'iat', 'nbf', 'jti', 'sid'],
  }));
} catch (e) {
  if (!(e instanceof errors.JOSEError)) throw e;
  process.stderr.write(`refused: ${e.code}: ${e.message}\n`);
  process.exit(1);
}
process.stdout.write(JSON.stringify(payload) + '\n');
