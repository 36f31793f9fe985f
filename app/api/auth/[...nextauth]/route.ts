import { handlers } from "@/server/dashboard/auth";

export const { GET, POST } = handlers;
export const dynamic = "force-dynamic";
