"""Bearer tokens: verification (never issuing), Better Auth's keys, local-mode tokens."""
