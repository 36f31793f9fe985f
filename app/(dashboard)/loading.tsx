import { Skeleton } from "@/components/ui/layout";

export default function Loading() {
  return (
    <div className="flex flex-col gap-6">
      <div className="h-8 w-48 animate-pulse rounded-lg bg-zinc-800/60" />
      <Skeleton rows={5} />
    </div>
  );
}
