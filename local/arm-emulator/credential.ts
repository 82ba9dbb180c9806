// The emulator accepts any bearer token, but the SDKs insist on asking a credential for one.
import type { AccessToken, TokenCredential } from "@azure/core-auth";

export function staticTokenCredential(token = "arm-emulator-token"): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({
      token,
      // Far enough ahead that the bearer policy never tries to refresh during a run.
      expiresOnTimestamp: Date.now() + 60 * 60 * 1000,
      tokenType: "Bearer",
    }),
  };
}
