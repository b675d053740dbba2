// Development certificates with node-forge: a CA and a serving certificate it signs. In clusters,
// cert-manager (or the chart's generated pair) provides them instead.
import forge from 'node-forge';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

export interface GeneratedCerts {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

function serial(): string {
  // Positive 16-byte serial number.
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

function newCert(publicKey: forge.pki.PublicKey, subjectCN: string, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000); // tolerate clock skew
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: subjectCN }]);
  return cert;
}

export function generateCertificates(opts: { hosts: string[]; days?: number; caDays?: number; commonName?: string }): GeneratedCerts {
  if (opts.hosts.length === 0) throw new Error('at least one DNS name or IP address is needed');
  const caKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const ca = newCert(caKeys.publicKey, 'asya-webhook-ca', opts.caDays ?? 3650);
  ca.setIssuer(ca.subject.attributes);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = newCert(keys.publicKey, opts.commonName ?? opts.hosts[0]!, opts.days ?? 365);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: opts.hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    caCert: forge.pki.certificateToPem(ca),
    caKey: forge.pki.privateKeyToPem(caKeys.privateKey),
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
  };
}
