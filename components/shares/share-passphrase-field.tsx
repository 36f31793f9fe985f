import { TextField } from "@/components/ui/field";

/** The passphrase a sender set on a share, asked of its reader before a reveal (never prefilled, never stored). */
export function SharePassphraseField({ value, onChange, hint }: { value: string; onChange: (value: string) => void; hint: string }) {
  return <TextField label="Passphrase" type="password" autoComplete="off" required maxLength={256} value={value} onChange={(e) => onChange(e.target.value)} hint={hint} />;
}
