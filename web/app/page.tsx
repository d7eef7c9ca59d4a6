import { headers } from "next/headers";
import { redirect } from "next/navigation";

import { TasksPage } from "@/components/TasksPage";
import { getAuth } from "@/lib/auth";
import { taskApiUrl } from "@/lib/config";

export const dynamic = "force-dynamic";

export default async function Home() {
  const session = await getAuth().api.getSession({ headers: await headers() });
  if (!session) redirect("/sign-in");
  return <TasksPage apiUrl={taskApiUrl()} userId={session.user.id} name={session.user.name} />;
}
