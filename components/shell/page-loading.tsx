import { Skeleton } from "@/components/ui/layout";

/**
 * The skeleton a dashboard page shows while its data loads. Used by the `loading.tsx` of pages that
 * never answer 404 (lists and settings): a loading boundary streams the page, so a record page below
 * one could no longer answer HTTP 404 for a missing record (the status is sent with the skeleton).
 */
export function PageLoading() {
  return (
    <div className="flex flex-col gap-6">
      <div className="h-8 w-48 animate-pulse rounded-lg bg-zinc-800/60" />
      <Skeleton rows={5} />
    </div>
  );
}
