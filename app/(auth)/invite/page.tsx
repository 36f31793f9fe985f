import type { Metadata } from "next";
import { AcceptInvite } from "@/components/auth/accept-invite";
import { acceptInviteAction } from "../actions";

export const metadata: Metadata = { title: "Accept invitation", referrer: "no-referrer" };

export default function InvitePage() {
  return <AcceptInvite acceptInvite={acceptInviteAction} />;
}
