// PUBLIC TEST MATERIAL, NOT A SECRET. A self-signed EC P-256 certificate (CN=kraken-lab.example,
// valid 2025-01-01 to 2045-01-01) and its key, generated once for /apidoc's examples so that
// "Try it out" on POST /apis/v2/certificates/import succeeds as sent (issue 20). The key is
// published here on purpose: it protects nothing, and nothing should ever trust this certificate.
// Made with @peculiar/x509 (ECDSA P-256, SHA-256, serverAuth, SAN DNS:kraken-lab.example).

/** The example certificate's name on the device. */
export const EXAMPLE_CERTIFICATE_NAME = 'kraken-lab-imported'

export const EXAMPLE_CERTIFICATE_PEM = `-----BEGIN CERTIFICATE-----
MIIByjCCAXCgAwIBAgIIGis8TV5vcIEwCgYIKoZIzj0EAwIwQDELMAkGA1UEBhMC
VVMxFDASBgNVBAoTC0V4YW1wbGUgTGFiMRswGQYDVQQDExJrcmFrZW4tbGFiLmV4
YW1wbGUwHhcNMjUwMTAxMDAwMDAwWhcNNDUwMTAxMDAwMDAwWjBAMQswCQYDVQQG
EwJVUzEUMBIGA1UEChMLRXhhbXBsZSBMYWIxGzAZBgNVBAMTEmtyYWtlbi1sYWIu
ZXhhbXBsZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLNMwtelpkwfjWVzd/gh
ceFSuv/7o5B1UwNziThoa3ZeJEE5+rMM2Lf7TjOpXadPJzo3fFmH3GmE4zqa+Pb1
RI6jVDBSMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoG
CCsGAQUFBwMBMB0GA1UdEQQWMBSCEmtyYWtlbi1sYWIuZXhhbXBsZTAKBggqhkjO
PQQDAgNIADBFAiBsaHqYx+Xq1R8O27QME7yx+STm3bkuuno9auoFNZBWWgIhALnc
HzI7NKK12pKcsngZR2MFar5Bj+0DJuR8H/Y/Vzj1
-----END CERTIFICATE-----
`

/** The example certificate's key (PKCS#8): public test material, see the top of this file. */
export const EXAMPLE_CERTIFICATE_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2a+QH5ghvfKpx1HI
EgvAdMP2DtU9mp1uwPH3ZNGadHShRANCAASzTMLXpaZMH41lc3f4IXHhUrr/+6OQ
dVMDc4k4aGt2XiRBOfqzDNi3+04zqV2nTyc6N3xZh9xphOM6mvj29USO
-----END PRIVATE KEY-----
`
