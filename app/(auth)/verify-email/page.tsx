import type { Metadata } from "next";
import { VerifyEmail } from "@/components/auth/verify-email";
import { confirmEmailAction } from "../actions";

export const metadata: Metadata = { title: "Confirm email", referrer: "no-referrer" };

export default function VerifyEmailPage() {
  return <VerifyEmail confirmEmail={confirmEmailAction} />;
}
