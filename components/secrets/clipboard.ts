/**
 * Copies a value that is still being fetched. The clipboard write starts inside the click (a
 * ClipboardItem holding a promise keeps the user's gesture across the server round trip); browsers
 * without promise-valued ClipboardItems get writeText once the value arrives.
 */
export async function copyPending(value: Promise<string>): Promise<void> {
  if (typeof ClipboardItem !== "undefined" && navigator.clipboard.write) {
    const blob = value.then((v) => new Blob([v], { type: "text/plain" }));
    await navigator.clipboard.write([new ClipboardItem({ "text/plain": blob })]);
    return;
  }
  await navigator.clipboard.writeText(await value);
}
