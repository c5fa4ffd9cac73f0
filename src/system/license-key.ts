/**
 * The public half of the emulator's licence signing key (Ed25519, SPKI PEM). A licence file is
 * installed only when its signature verifies with this key. The private half is public test
 * material on purpose (src/license-mint.ts): anyone may mint emulator licences, which is the point
 * of an emulator; it protects nothing and must never sign anything real.
 */
export const LICENSE_PUBLIC_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA/UF9/SQtOME6EfDTuaNV84FX17OEgUf3aiY2/MJ1ekM=
-----END PUBLIC KEY-----
`
