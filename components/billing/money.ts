/** Cents as dollars. Overage debits are fractions of a cent ($0.001 a request), so up to five decimals show. */
const USD = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 5 });

export const formatCents = (cents: number) => USD.format(cents / 100);
