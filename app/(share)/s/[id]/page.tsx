import Link from "next/link";
import { notFound } from "next/navigation";
import { ShareLinkReveal } from "@/components/shares/share-link-reveal";
import { ZUuid } from "@/lib/contract/common";
import { humanDetail } from "@/lib/dashboard/human-problem";
import { publicCtx } from "@/server/dashboard/context";
import { ApiError } from "@/server/http/errors";
import { previewShareLink, type ShareLinkPreview } from "@/server/shares/preview";
import { revealShareLinkAction } from "./actions";

export const dynamic = "force-dynamic";
export const metadata = { title: "Shared secret · Talon" };

/**
 * A share link's page. Its GET (what link previewers and chat unfurlers fetch) shows who shared what
 * and never the value; the value is read only when the visitor clicks Reveal (a POST).
 */
export default async function ShareLinkPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!ZUuid.safeParse(id).success) notFound();
  let preview: ShareLinkPreview;
  try {
    preview = await previewShareLink(await publicCtx(), id);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) notFound();
    if (e instanceof ApiError && e.status === 410) {
      return (
        <>
          <h1 className="text-xl font-semibold text-zinc-50">This share is no longer available</h1>
          <p className="mt-3 text-sm text-zinc-300">{humanDetail(e.detail, e.status)} Ask the person who shared it for a new link.</p>
        </>
      );
    }
    throw e;
  }
  if (preview.targeted) {
    return (
      <>
        <h1 className="text-xl font-semibold text-zinc-50">A secret was shared with you</h1>
        <p className="mt-3 text-sm text-zinc-300">
          This share was sent to a specific member or agent. Sign in as them and open{" "}
          <Link href="/shares#inbound" className="font-semibold text-amber-300 hover:text-amber-200">
            Shares
          </Link>{" "}
          to accept and read it.
        </p>
      </>
    );
  }
  return <ShareLinkReveal preview={preview} reveal={revealShareLinkAction} />;
}
