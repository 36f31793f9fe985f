"use client";
import { Alert } from "@/components/ui/layout";
import { Button } from "@/components/ui/button";

export default function DashboardError({ reset }: { error: Error; reset: () => void }) {
  return (
    <div className="flex flex-col gap-4">
      <Alert title="This page could not be loaded">
        Something went wrong while loading it, or your IP address is not allowed by the organisation&apos;s rules.
      </Alert>
      <div>
        <Button variant="secondary" onClick={reset}>
          Try again
        </Button>
      </div>
    </div>
  );
}
