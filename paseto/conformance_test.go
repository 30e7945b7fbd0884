package paseto_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ginfresh/ginfresh"
	"github.com/ginfresh/ginfresh/formattest"
	"github.com/ginfresh/ginfresh/paseto"
)

func TestConformance(t *testing.T) {
	t.Run("v4.public", func(t *testing.T) {
		formattest.Run(t, func(t *testing.T) formattest.Setup {
			key, err := paseto.GenerateSecretKey("")
			require.NoError(t, err)
			issuer, err := paseto.NewPublic(key)
			require.NoError(t, err)
			verifier, err := paseto.NewPublicVerifier(key.Public())
			require.NoError(t, err)
			return formattest.Setup{
				Issuer:   []ginfresh.Option{ginfresh.WithFormat(issuer)},
				Verifier: []ginfresh.Option{ginfresh.WithFormat(verifier)},
			}
		})
	})
	t.Run("v4.local", func(t *testing.T) {
		formattest.Run(t, func(t *testing.T) formattest.Setup {
			key, err := paseto.GenerateLocalKey("")
			require.NoError(t, err)
			f, err := paseto.NewLocal(key)
			require.NoError(t, err)
			return formattest.Setup{Issuer: []ginfresh.Option{ginfresh.WithFormat(f)}}
		})
	})
}
