/** Read on the server at request time, so one build serves any deployment. */
export function taskApiUrl(): string {
  return process.env.TASK_API_URL ?? "http://127.0.0.1:8000/api";
}
