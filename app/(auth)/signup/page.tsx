import type { Metadata } from "next";
import { SignupForm } from "@/components/auth/signup-form";
import { signUpAction } from "../actions";

export const metadata: Metadata = { title: "Create account" };

export default function SignupPage() {
  return <SignupForm signUp={signUpAction} />;
}
