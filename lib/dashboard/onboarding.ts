/** The first-run checklist's state, read from what exists in the org (server/dashboard/onboarding.ts). */
export type OnboardingSteps = {
  vaultId: string | null;
  secret: { vaultId: string; path: string } | null;
  agentId: string | null;
  policy: boolean;
  agentRead: boolean;
};
