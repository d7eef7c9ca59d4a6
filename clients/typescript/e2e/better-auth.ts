/** A real Better Auth server (email/password, jwt() plugin, memory adapter) on a free loopback port. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";

function makeAuth(baseURL: string) {
  return betterAuth({
    baseURL,
    secret: "e2e-only-secret-0123456789abcdefghijklmnopqrstuv",
    database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
    emailAndPassword: { enabled: true },
    // Keep the token small: the API needs only `sub` (Better Auth adds iss, aud, iat, exp).
    plugins: [jwt({ jwt: { definePayload: ({ user }) => ({ email: user.email }) } })],
  });
}

export type Auth = ReturnType<typeof makeAuth>;

export async function startBetterAuth(): Promise<{ auth: Auth; baseURL: string; close: () => void }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = makeAuth(baseURL);
  server.on("request", toNodeHandler(auth));
  return { auth, baseURL, close: () => server.close() };
}

/** Another Better Auth with the same base URL but its own keys: its tokens must not be accepted. */
export function impostor(baseURL: string): Auth {
  return makeAuth(baseURL);
}

/** Sign up over HTTP, as a browser would, and fetch the user's JWT with the session cookie. */
export async function signUp(baseURL: string, name: string): Promise<{ id: string; token: string }> {
  const response = await fetch(`${baseURL}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: baseURL },
    body: JSON.stringify({ email: `${name}-${Date.now()}@example.com`, password: "a long password 123", name }),
  });
  if (!response.ok) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
  const { user } = (await response.json()) as { user: { id: string } };
  const cookie = response.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const tokenResponse = await fetch(`${baseURL}/api/auth/token`, { headers: { Cookie: cookie } });
  if (!tokenResponse.ok) throw new Error(`token failed: ${tokenResponse.status}`);
  const { token } = (await tokenResponse.json()) as { token: string };
  return { id: user.id, token };
}
