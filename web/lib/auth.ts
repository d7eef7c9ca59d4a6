/** Better Auth on the server: users and sessions in Postgres (a database of their own beside the API's), and the
 * JWT plugin whose tokens the Task API verifies against `/api/auth/jwks`. */
import { betterAuth } from "better-auth";
import { nextCookies } from "better-auth/next-js";
import { jwt } from "better-auth/plugins";
import { Pool } from "pg";

function makeAuth() {
  const baseURL = process.env.BETTER_AUTH_URL ?? "http://127.0.0.1:3000";
  return betterAuth({
    baseURL,
    secret: process.env.BETTER_AUTH_SECRET,
    database: new Pool({ connectionString: process.env.AUTH_DATABASE_URL, max: 5 }),
    emailAndPassword: { enabled: true, autoSignIn: true, minPasswordLength: 8 },
    // Better Auth limits sign-in and sign-up attempts per address (3 in 10 s); the browser tests, which sign up
    // dozens of people from one address, turn that off with AUTH_RATE_LIMIT=off. Never in production.
    rateLimit: { enabled: process.env.AUTH_RATE_LIMIT !== "off" },
    trustedOrigins: [baseURL],
    plugins: [
      jwt({
        jwt: {
          // 15 minutes, as Better Auth's default; tests shorten it to prove the app renews its token.
          expirationTime: process.env.JWT_EXPIRATION_TIME ?? "15m",
          // The API needs only `sub`; keep the rest of the user record out of every request.
          definePayload: ({ user }) => ({ name: user.name }),
        },
      }),
      nextCookies(),
    ],
  });
}

let instance: ReturnType<typeof makeAuth> | undefined;

/** Made on first use, at run time: the build has no secret and no database, and needs neither. */
export function getAuth(): ReturnType<typeof makeAuth> {
  instance ??= makeAuth();
  return instance;
}
