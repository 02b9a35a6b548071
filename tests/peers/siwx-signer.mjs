// Signs Agora's claim challenges the way a seller would: the official x402 SDK's Sign-In-With-X
// client (`@x402/extensions/sign-in-with-x` createSIWxPayload) over a viem account (EVM,
// EIP-4361 + EIP-191) or a tweetnacl ed25519 keypair (Solana, SIWS). Keys are test keys.
//   node siwx-signer.mjs address evm|solana <hex key>
//   node siwx-signer.mjs sign evm|solana <hex key> '<challenge siwx info JSON>' <Agora base URL>
// Prints {"address"} or {"payload", "header"} as JSON, or {"error"} when the SDK refuses.
import { createSIWxPayload, encodeSIWxHeader, encodeBase58 } from "@x402/extensions/sign-in-with-x";
import { privateKeyToAccount } from "viem/accounts";
import nacl from "tweetnacl";

const [operation, family, key, info, base] = process.argv.slice(2);

function signer() {
  if (family === "evm") {
    return privateKeyToAccount(key.startsWith("0x") ? key : `0x${key}`);
  }
  const pair = nacl.sign.keyPair.fromSeed(Uint8Array.from(Buffer.from(key, "hex")));
  return {
    publicKey: encodeBase58(pair.publicKey),
    signMessage: async (bytes) => nacl.sign.detached(bytes, pair.secretKey),
  };
}

try {
  const account = signer();
  if (operation === "address") {
    console.log(JSON.stringify({ address: family === "evm" ? account.address : account.publicKey }));
  } else {
    const payload = await createSIWxPayload(JSON.parse(info), account, base);
    console.log(JSON.stringify({ payload, header: encodeSIWxHeader(payload) }));
  }
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.message ?? error) }));
}
