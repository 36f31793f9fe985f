/**
 * Names chosen by other people (a display name, an organisation name) inside a plain-text mail. Mail
 * clients turn anything that looks like a URL, a domain or an address into a link, so a name such as
 * "Security team: reset at evil.example/login" would become a clickable phishing link in a message
 * sent by us. The name is quoted and "defanged" the way security advisories write indicators:
 * `://` becomes `[:]//`, the dot inside a domain-like run becomes `[.]`, `@` becomes `[at]`, so no
 * linkifier finds a URL in it while a person still reads it. (Talon sends no HTML mail; an HTML part
 * would have to escape the name instead.)
 */
export function quoteName(name: string): string {
  const defanged = name
    .replace(/:\/\//g, "[:]//")
    .replace(/@/g, "[at]")
    .replace(/(?<=[\p{L}\p{N}_-])\.(?=[\p{L}\p{N}_-])/gu, "[.]");
  return `"${defanged}"`;
}

