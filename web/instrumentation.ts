/** Runs once when the server starts: Better Auth's tables are created or brought up to date before any request. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { getMigrations } = await import("better-auth/db/migration");
  const { getAuth } = await import("@/lib/auth");
  const { runMigrations } = await getMigrations(getAuth().options);
  await runMigrations();
}
