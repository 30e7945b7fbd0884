// Verifies (v4.public) or decrypts (v4.local) one ginfresh access token
// with paseto-ts, its claim checks on.
//
// Run by the Go tests in ..: it loads paseto-ts, prints "ready", reads the
// token from stdin and checks it at once under the implicit assertion it is
// given, with validatePayload on: iat may not be in the future, exp must be
// after iat and still ahead, nbf may be neither before iat nor in the
// future; paseto-ts allows no clock skew. The key is a PASERK (k4.public.…
// or k4.local.…). It prints {"payload":…,"footer":…} as one JSON object, or
// "refused: <error class>: <reason>" on stderr and exits 1. Anything else
// exits with a stack trace, which the tests do not mistake for a refusal.
import { parseArgs } from 'node:util';
import { decrypt, verify } from 'paseto-ts/v4';
import { PasetoError } from 'paseto-ts/lib/errors';

const { values: args } = parseArgs({
  options: {
    purpose: { type: 'string' },
    key: { type: 'string' },
    assertion: { type: 'string' },
  },
  strict: true,
});
const open = { public: verify, local: decrypt }[args.purpose];
if (!open) throw new Error(`--purpose must be public or local, not ${args.purpose}`);

process.stdout.write('ready\n');
let token = '';
for await (const chunk of process.stdin) token += chunk;
token = token.trim();

let result;
try {
  result = open(args.key, token, { assertion: args.assertion, validatePayload: true });
} catch (e) {
  if (!(e instanceof PasetoError)) throw e;
  process.stderr.write(`refused: ${e.name}: ${e.message}\n`);
  process.exit(1);
}
process.stdout.write(JSON.stringify(result) + '\n');
