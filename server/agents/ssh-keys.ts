import { generateKeyPairSync, randomBytes } from "node:crypto";

/**
 * Each agent's Ed25519 SSH key pair. Node can generate Ed25519 but not write OpenSSH's formats, so
 * the two encodings are built here: the public key as an `authorized_keys` line, the private key as
 * an unencrypted `openssh-key-v1` file (what `ssh-keygen -t ed25519 -N ''` writes), which every
 * OpenSSH client loads as is. The private key is stored only sealed, as an `ssh_key` secret.
 */
const KEY_TYPE = "ssh-ed25519";

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

const uint32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

export type SshKeyPair = { publicKey: string; privateKey: string };

export function generateSshKeyPair(comment: string): SshKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  const pubBlob = Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);

  // The private section: a repeated random check value, the key (seed ‖ public), the comment,
  // then padding 1, 2, 3… up to the cipher block size (8 for "none").
  const check = randomBytes(4);
  let section = Buffer.concat([check, check, sshString(KEY_TYPE), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment)]);
  const pad = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const file = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(Buffer.alloc(0)),
    uint32(1),
    sshString(pubBlob),
    sshString(section),
  ]);
  seed.fill(0);
  section.fill(0);
  const b64 = file.toString("base64").replace(/.{1,70}/g, "$&\n");
  file.fill(0);
  return {
    publicKey: `${KEY_TYPE} ${pubBlob.toString("base64")} ${comment}`,
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`,
  };
}
