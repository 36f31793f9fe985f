"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useRef, useState } from "react";

export const NAV: { href: string; label: string }[] = [
  { href: "/vaults", label: "Vaults" },
  { href: "/agents", label: "Agents" },
  { href: "/policies", label: "Policies" },
  { href: "/approvals", label: "Approvals" },
  { href: "/shares", label: "Shares" },
  { href: "/rotation", label: "Rotation" },
  { href: "/audit", label: "Audit log" },
  { href: "/billing", label: "Billing" },
  { href: "/org", label: "Organisation" },
  { href: "/security", label: "Security" },
  { href: "/account", label: "Account" },
];

/** With billing off the billing page shows usage only, and is named for it. */
const navFor = (billing: "on" | "off") => (billing === "on" ? NAV : NAV.map((item) => (item.href === "/billing" ? { ...item, label: "Usage" } : item)));

function Links({ billing, onNavigate }: { billing: "on" | "off"; onNavigate?: () => void }) {
  const pathname = usePathname();
  return (
    <ul className="flex flex-col gap-0.5">
      {navFor(billing).map((item) => {
        const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
        return (
          <li key={item.href}>
            <Link
              href={item.href}
              onClick={onNavigate}
              aria-current={active ? "page" : undefined}
              className={`block rounded-lg px-3 py-2 text-sm font-medium transition focus-visible:outline-2 focus-visible:outline-amber-400 ${
                active ? "bg-zinc-800 text-zinc-50" : "text-zinc-400 hover:bg-zinc-900 hover:text-zinc-100"
              }`}
            >
              {item.label}
            </Link>
          </li>
        );
      })}
    </ul>
  );
}

/** The sidebar on wide screens; a menu button and drop-down list on narrow ones (375 px and up). */
export function DashboardNav({ email, billing, signOut }: { email: string; billing: "on" | "off"; signOut: () => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  // Esc closes the phone menu and hands focus back to the button that opened it.
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      setOpen(false);
      menuButton.current?.focus();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [open]);
  const account = (
    <form action={signOut} className="flex flex-col gap-2 border-t border-zinc-800 pt-3">
      <p className="truncate px-3 text-xs text-zinc-500" title={email}>
        {email}
      </p>
      <button type="submit" className="rounded-lg px-3 py-2 text-left text-sm font-medium text-zinc-400 hover:bg-zinc-900 hover:text-zinc-100">
        Sign out
      </button>
    </form>
  );
  return (
    <>
      <aside className="hidden w-56 shrink-0 flex-col justify-between border-r border-zinc-800 px-3 py-5 md:flex">
        <nav aria-label="Main">
          <Link href="/vaults" className="mb-5 flex items-center gap-2 px-3 text-lg font-semibold tracking-tight">
            <Logo /> Talon
          </Link>
          <Links billing={billing} />
        </nav>
        {account}
      </aside>
      <div className="border-b border-zinc-800 md:hidden">
        <div className="flex items-center justify-between px-4 py-3">
          <Link href="/vaults" className="flex items-center gap-2 font-semibold">
            <Logo /> Talon
          </Link>
          <button
            ref={menuButton}
            type="button"
            aria-expanded={open}
            aria-controls="mobile-nav"
            onClick={() => setOpen((v) => !v)}
            className="rounded-lg border border-zinc-700 px-3 py-1.5 text-sm"
          >
            Menu
          </button>
        </div>
        {open && (
          <nav id="mobile-nav" aria-label="Main" className="flex flex-col gap-3 px-3 pb-4">
            <Links billing={billing} onNavigate={() => setOpen(false)} />
            {account}
          </nav>
        )}
      </div>
    </>
  );
}

export function Logo() {
  return (
    <svg viewBox="0 0 32 32" aria-hidden="true" className="h-6 w-6 text-amber-400">
      <path d="M6 26c2-9 7-16 16-20 1.5-.6 3 .8 2.3 2.3C20.8 15.6 16 21 8.6 27.2 7.4 28.2 5.7 27.5 6 26z" fill="currentColor" />
    </svg>
  );
}
