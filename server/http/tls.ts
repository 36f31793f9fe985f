import { readFileSync } from "node:fs";
import type { ServerOptions } from "node:https";
import type { TLSSocket } from "node:tls";
import type { Config } from "../config";

/**
 * TLS for mTLS agents. Where Talon terminates TLS itself (TALON_TLS_CERT_FILE + TALON_TLS_KEY_FILE),
 * the server asks every client for a certificate but does not reject connections without one
 * (`rejectUnauthorized: false`): browsers and key-holding agents connect as usual, and only a
 * certificate that chains to TALON_TLS_CLIENT_CA_FILE (`socket.authorized`) yields a fingerprint.
 * Behind a TLS-terminating proxy, the proxy's verified-certificate header is used instead, and only
 * when TALON_TRUSTED_PROXY_HOPS > 0 says a proxy is there to set (and strip) it.
 */
export function tlsServerOptions(config: Config): ServerOptions | null {
  if (!config.tls) return null;
  const { certFile, keyFile, clientCaFile } = config.tls;
  return {
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
    ...(clientCaFile ? { ca: readFileSync(clientCaFile), requestCert: true, rejectUnauthorized: false } : {}),
  };
}

/** Lower-case hex without colons: how agents' `client_cert_fingerprint` is stored. */
export const normaliseFingerprint = (s: string) => s.replace(/:/g, "").trim().toLowerCase();

type MaybeTlsSocket = Partial<Pick<TLSSocket, "authorized" | "getPeerCertificate">>;

/**
 * The SHA-256 fingerprint of the client certificate this request was made with, or null. `socket` is
 * the Node socket of the request; `header` reads a request header.
 */
export function clientCertFingerprint(config: Config, socket: unknown, header: (name: string) => string | undefined): string | null {
  const tls = socket as MaybeTlsSocket | undefined;
  if (tls?.authorized === true && typeof tls.getPeerCertificate === "function") {
    const fp = tls.getPeerCertificate()?.fingerprint256;
    if (fp) return normaliseFingerprint(fp);
  }
  if (config.mtlsFingerprintHeader && config.trustedProxyHops > 0) {
    const value = header(config.mtlsFingerprintHeader);
    if (value) {
      const fp = normaliseFingerprint(value);
      if (/^[0-9a-f]{64}$/.test(fp)) return fp;
    }
  }
  return null;
}
