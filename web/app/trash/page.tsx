import { headers } from "next/headers";
import { redirect } from "next/navigation";

import { TrashPage } from "@/components/TrashPage";
import { getAuth } from "@/lib/auth";
import { taskApiUrl } from "@/lib/config";

export const dynamic = "force-dynamic";

export default async function Trash() {
  const session = await getAuth().api.getSession({ headers: await headers() });
  if (!session) redirect("/sign-in");
  return <TrashPage apiUrl={taskApiUrl()} userId={session.user.id} />;
}
