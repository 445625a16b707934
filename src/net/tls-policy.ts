/**
 * TLS as a value (DESIGN.md: "TLS policy is a value"): what the account asks
 * for, in the terms of msmtp's tls_* settings. Built by the CLI from the
 * account; used by src/net/tls*.ts to open or upgrade connections. A policy
 * never degrades: asked-for TLS that cannot be had is an error.
 */
export type TlsMode = 'off' | 'starttls' | 'tls';

export interface TlsPolicy {
  readonly mode: TlsMode;
  /** PEM file of trusted CAs, `system` (the system store), or null (no CA: only a fingerprint or certcheck off). */
  readonly trustFile: string | 'system' | null;
  readonly crlFile: string | null;
  /** msmtp's colon-separated hex: SHA256 (32 bytes), or the deprecated SHA1 (20) or MD5 (16). Replaces CA checking. */
  readonly fingerprint: string | null;
  /** `tls_certcheck off`: no verification at all (msmtp allows it; outbox warns). */
  readonly certcheck: boolean;
  /** `tls_host_override`: the name the certificate must carry, instead of the host connected to. */
  readonly hostOverride: string | null;
  readonly certFile: string | null;
  readonly keyFile: string | null;
  readonly minDhPrimeBits: number | null;
  /** A GnuTLS priority string (`tls_priorities`), mapped to Node's settings. */
  readonly priorities: string | null;
  /** Folder for cached TLS sessions (resumption across runs); null disables the cache. */
  readonly sessionCacheDir: string | null;
}

/** What the TLS session turned out to be, for --serverinfo, --debug and the log. */
export interface TlsSessionInfo {
  /** e.g. "TLSv1.3". */
  readonly protocol: string;
  /** e.g. "TLS_AES_256_GCM_SHA384". */
  readonly cipher: string;
  /** True when an earlier session was resumed (no full handshake). */
  readonly resumed: boolean;
  readonly certificate: CertificateInfo | undefined;
}

export interface CertificateInfo {
  /** Distinguished names as msmtp prints them, e.g. "CN=mx.example.org,O=Example". */
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  /** Upper-case hex pairs joined by ":". */
  readonly sha256: string;
  readonly sha1: string;
}
