import { ApiKeysTable, CreateApiKeyForm } from "@/components/account/api-keys";
import { DeleteAccount } from "@/components/account/delete-account";
import { MfaCard } from "@/components/account/mfa-card";
import { PasskeyList } from "@/components/account/passkey-list";
import { PasswordForm } from "@/components/account/password-form";
import { ProfileForm } from "@/components/account/profile-form";
import { SessionsTable } from "@/components/account/sessions-table";
import { TimeZoneForm } from "@/components/account/time-zone-form";
import { Card, PageHeader } from "@/components/ui/layout";
import { pageCtx } from "@/server/dashboard/context";
import { listSessions } from "@/server/dashboard/sessions";
import { listApiKeys } from "@/server/identity/api-keys";
import { mfaStatus } from "@/server/identity/mfa";
import { listPasskeys } from "@/server/identity/passkeys";
import { getMe } from "@/server/identity/service";
import { listMembers } from "@/server/org/members";
import {
  changePasswordAction,
  createApiKeyAction,
  deleteAccountAction,
  disableMfaAction,
  revokeApiKeyAction,
  revokeSessionAction,
  setupMfaAction,
  updateProfileAction,
  verifyMfaSetupAction,
} from "./actions";
import { deletePasskeyAction, passkeyRegistrationOptionsAction, registerPasskeyAction } from "./passkey-actions";

export const dynamic = "force-dynamic";

export default async function AccountPage() {
  const ctx = await pageCtx();
  const [me, mfa, { keys: apiKeys }, sessions, { members }, passkeys] = await Promise.all([
    getMe(ctx),
    mfaStatus(ctx),
    listApiKeys(ctx),
    listSessions(ctx.rt, ctx.principal),
    listMembers(ctx),
    listPasskeys(ctx),
  ]);
  return (
    <>
      <PageHeader title="Account" description="Your profile, how you sign in, and your personal API keys." />
      <Card title="Profile">
        <ProfileForm me={me} update={updateProfileAction} />
      </Card>
      <Card title="Time zone" description="Dates and times in the dashboard are shown in this zone.">
        <TimeZoneForm />
      </Card>
      <Card title="Password">
        <PasswordForm changePassword={changePasswordAction} />
      </Card>
      <Card title="Multi-factor authentication" description="A code from an authenticator app at every sign-in.">
        <MfaCard status={mfa} setup={setupMfaAction} verify={verifyMfaSetupAction} disable={disableMfaAction} />
      </Card>

      <Card title="Passkeys" description="Sign in with your device's screen lock or a security key instead of a password and code.">
        <PasskeyList passkeys={passkeys} actions={{ options: passkeyRegistrationOptionsAction, register: registerPasskeyAction, remove: deletePasskeyAction }} />
      </Card>

      <Card title="Personal API keys" description="Keys starting with 1ck_ act as you through the API, CLI and SDK.">
        <div className="flex flex-col gap-6">
          <ApiKeysTable keys={apiKeys} revoke={revokeApiKeyAction} />
          <CreateApiKeyForm create={createApiKeyAction} />
        </div>
      </Card>
      <Card title="Sessions" description="Browsers signed in to this dashboard. Sign out any you do not recognise.">
        <SessionsTable sessions={sessions} revoke={revokeSessionAction} />
      </Card>
      <Card title="Delete account" className="border-red-500/30">
        <DeleteAccount email={me.email} soleMember={members.length === 1} deleteAccount={deleteAccountAction} />
      </Card>
    </>
  );
}
