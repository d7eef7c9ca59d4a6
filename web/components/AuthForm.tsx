"use client";
import Link from "next/link";
import { type FormEvent, useState } from "react";

import { authClient } from "@/lib/auth-client";

export function AuthForm({ mode }: { mode: "sign-in" | "sign-up" }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const signingUp = mode === "sign-up";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email"));
    const password = String(form.get("password"));
    setBusy(true);
    setError("");
    const { error } = signingUp
      ? await authClient.signUp.email({ name: String(form.get("name")), email, password })
      : await authClient.signIn.email({ email, password });
    setBusy(false);
    if (error) {
      setError(error.message ?? "That did not work; check what you typed and try again.");
      return;
    }
    window.location.assign("/");
  }

  return (
    <main className="auth">
      <h1>{signingUp ? "Create your account" : "Sign in to your tasks"}</h1>
      <form onSubmit={submit}>
        {signingUp && (
          <label>
            Name
            <input name="name" autoComplete="name" required />
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete={signingUp ? "new-password" : "current-password"} minLength={8} required />
        </label>
        {error && (
          <p role="alert" className="field-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {signingUp ? "Sign up" : "Sign in"}
        </button>
      </form>
      <p>
        {signingUp ? "Already have an account? " : "New here? "}
        <Link href={signingUp ? "/sign-in" : "/sign-up"}>{signingUp ? "Sign in" : "Sign up"}</Link>
      </p>
    </main>
  );
}
