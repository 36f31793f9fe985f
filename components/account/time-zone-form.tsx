"use client";
import { useMemo, useSyncExternalStore } from "react";
import { SelectField } from "@/components/ui/field";
import { browserTimeZone, chooseTimeZone, useChosenTimeZone, useTimeZone } from "@/components/ui/time-zone";

const noSubscription = () => () => {};

/** Which zone this browser shows times in; every time keeps UTC on hover. */
export function TimeZoneForm() {
  const chosen = useChosenTimeZone();
  const shown = useTimeZone();
  // The browser's zone and the zone list exist only in the browser; the server renders the UTC default.
  const own = useSyncExternalStore(noSubscription, browserTimeZone, () => "UTC");
  const zones = useSyncExternalStore(noSubscription, supportedZones, () => ["UTC"]);
  const options = useMemo(() => [{ value: "", label: `Browser default (${own})` }, ...zones.map((z) => ({ value: z, label: z.replace(/_/g, " ") }))], [own, zones]);
  return (
    <div className="flex max-w-md flex-col gap-2">
      <SelectField
        label="Time zone"
        value={chosen ?? ""}
        onChange={(e) => chooseTimeZone(e.target.value || null)}
        options={options}
        hint={<>Times show in {shown.replace(/_/g, " ")}, with UTC on hover. Kept in this browser only.</>}
      />
    </div>
  );
}

let cachedZones: string[] | null = null;
function supportedZones(): string[] {
  cachedZones ??= ["UTC", ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC")];
  return cachedZones;
}
