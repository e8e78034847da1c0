import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.jce.ECNamedCurveTable;
import org.bouncycastle.jce.interfaces.ECPublicKey;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.jce.spec.ECNamedCurveParameterSpec;
import org.bouncycastle.jce.spec.ECPrivateKeySpec;
import org.bouncycastle.jce.spec.ECPublicKeySpec;
import org.bouncycastle.jcajce.spec.SM2ParameterSpec;

/**
 * An ERP's SM2 signer for the hub's registers, with BouncyCastle's JCA provider (contracts/filing-signature.md).
 *
 * <pre>
 *   javac -cp /usr/share/java/bcprov.jar -d build examples/java/*.java
 *   java -cp build:/usr/share/java/bcprov.jar FilingSigner keygen legal.pem      # prints the PEM public key
 *   java -cp build:/usr/share/java/bcprov.jar FilingSigner pubkey legal.pem
 *   java -cp build:/usr/share/java/bcprov.jar FilingSigner sign legal.pem register.json   # DER, hex
 *   java -cp build:/usr/share/java/bcprov.jar FilingSigner verify pub.pem register.json SIGNATURE
 *   java -cp build:/usr/share/java/bcprov.jar FilingSigner vectors contracts/vectors/filing-signature.json
 * </pre>
 *
 * register.json holds the canonical bytes exactly as CompileRegister answered them (canonical_document):
 * sign those bytes, never a string re-encoded from them or a document re-serialised. The key files are
 * unencrypted PKCS#8 PEM (what hubsign and OpenSSL write), readable by their owner only.
 */
public final class FilingSigner {
    /** GB/T 32918's default user id: what the hub verifies with. Set it explicitly: some libraries default to none. */
    static final byte[] USER_ID = "1234567812345678".getBytes(StandardCharsets.US_ASCII);
    static final ECNamedCurveParameterSpec CURVE = ECNamedCurveTable.getParameterSpec("sm2p256v1");
    static final HexFormat HEX = HexFormat.of();

    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        String command = args.length > 0 ? args[0] : "";
        switch (command) {
            case "keygen" -> System.out.print(keygen(Path.of(args[1])));
            case "pubkey" -> System.out.print(pem("PUBLIC KEY", publicOf(readPrivate(Path.of(args[1]))).getEncoded()));
            case "sign" -> System.out.println(HEX.formatHex(
                    sign(readPrivate(Path.of(args[1])), Files.readAllBytes(Path.of(args[2])))));
            case "verify" -> {
                PublicKey key = readPublic(Files.readString(Path.of(args[1])));
                boolean ok = verify(key, Files.readAllBytes(Path.of(args[2])), toDer(args[3]));
                System.out.println(ok ? "verified" : "NOT verified");
                System.exit(ok ? 0 : 1);
            }
            case "vectors" -> System.exit(vectors(Path.of(args[1])));
            default -> {
                System.err.println("usage: FilingSigner keygen|pubkey|sign|verify|vectors ...");
                System.exit(2);
            }
        }
    }

    /** A new key pair: the private key to a new file of mode 0600, the public key (PEM) returned. */
    static String keygen(Path file) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", "BC");
        generator.initialize(new ECGenParameterSpec("sm2p256v1"));
        KeyPair pair = generator.generateKeyPair();
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        return pem("PUBLIC KEY", pair.getPublic().getEncoded());
    }

    /** SM2 with SM3 and the default user id; BouncyCastle answers ASN.1 DER, which the hub accepts. */
    static byte[] sign(PrivateKey key, byte[] canonical) throws Exception {
        Signature signer = Signature.getInstance("SM3withSM2", "BC");
        signer.setParameter(new SM2ParameterSpec(USER_ID));
        signer.initSign(key);
        signer.update(canonical);
        return signer.sign();
    }

    static boolean verify(PublicKey key, byte[] data, byte[] der) throws Exception {
        Signature verifier = Signature.getInstance("SM3withSM2", "BC");
        verifier.setParameter(new SM2ParameterSpec(USER_ID));
        verifier.initVerify(key);
        verifier.update(data);
        try {
            return verifier.verify(der);
        } catch (java.security.SignatureException malformed) {
            return false;
        }
    }

    /** A signature as DER: given as DER hex, or as the raw r||s hex (128 characters) the hub passes on. */
    static byte[] toDer(String hex) throws Exception {
        byte[] bytes = HEX.parseHex(hex);
        if (hex.length() != 128) {
            return bytes;
        }
        ASN1EncodableVector rs = new ASN1EncodableVector();
        rs.add(new ASN1Integer(new BigInteger(1, java.util.Arrays.copyOfRange(bytes, 0, 32))));
        rs.add(new ASN1Integer(new BigInteger(1, java.util.Arrays.copyOfRange(bytes, 32, 64))));
        return new DERSequence(rs).getEncoded();
    }

    static PrivateKey readPrivate(Path file) throws Exception {
        return KeyFactory.getInstance("EC", "BC").generatePrivate(new PKCS8EncodedKeySpec(unpem(Files.readString(file))));
    }

    /** A public key from PEM: a SubjectPublicKeyInfo or an X.509 certificate. */
    static PublicKey readPublic(String pem) throws Exception {
        if (pem.contains("BEGIN CERTIFICATE")) {
            CertificateFactory factory = CertificateFactory.getInstance("X.509", "BC");
            return factory.generateCertificate(new ByteArrayInputStream(unpem(pem))).getPublicKey();
        }
        return KeyFactory.getInstance("EC", "BC").generatePublic(new X509EncodedKeySpec(unpem(pem)));
    }

    /** A public key from the uncompressed point hex (04 || x || y) the hub stores. */
    static PublicKey publicFromHex(String hex) throws Exception {
        ECPublicKeySpec spec = new ECPublicKeySpec(CURVE.getCurve().decodePoint(HEX.parseHex(hex)), CURVE);
        return KeyFactory.getInstance("EC", "BC").generatePublic(spec);
    }

    static PublicKey publicOf(PrivateKey key) throws Exception {
        BigInteger d = ((org.bouncycastle.jce.interfaces.ECPrivateKey) key).getD();
        ECPublicKeySpec spec = new ECPublicKeySpec(CURVE.getG().multiply(d).normalize(), CURVE);
        return KeyFactory.getInstance("EC", "BC").generatePublic(spec);
    }

    static String pointHex(PublicKey key) {
        return HEX.formatHex(((ECPublicKey) key).getQ().getEncoded(false));
    }

    static String pem(String label, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
    }

    static byte[] unpem(String pem) {
        String body = pem.replaceAll("-----(BEGIN|END) [A-Z0-9 ]+-----", "").replaceAll("\\s", "");
        return Base64.getDecoder().decode(body);
    }

    /** Checks every vector of the file; prints each verdict and answers the exit code (0: all agree). */
    @SuppressWarnings("unchecked")
    static int vectors(Path file) throws Exception {
        Map<String, Object> vectors = (Map<String, Object>) Json.parse(Files.readString(file));
        Map<String, PublicKey> keys = new java.util.HashMap<>();
        int passed = 0;
        int failed = 0;
        for (Object item : (List<Object>) vectors.get("keys")) {
            Map<String, Object> key = (Map<String, Object>) item;
            String hex = (String) key.get("public_key_hex");
            PublicKey fromHex = publicFromHex(hex);
            keys.put((String) key.get("name"), fromHex);
            BigInteger d = new BigInteger((String) key.get("private_key_hex"), 16);
            PrivateKey priv = KeyFactory.getInstance("EC", "BC").generatePrivate(new ECPrivateKeySpec(d, CURVE));
            boolean ok = pointHex(publicOf(priv)).equals(hex);
            if (key.containsKey("public_key_pem")) {
                ok &= pointHex(readPublic((String) key.get("public_key_pem"))).equals(hex);
                PrivateKey fromPem = KeyFactory.getInstance("EC", "BC")
                        .generatePrivate(new PKCS8EncodedKeySpec(unpem((String) key.get("private_key_pem"))));
                ok &= pointHex(publicOf(fromPem)).equals(hex);
            }
            if (key.containsKey("certificate_pem")) {
                ok &= pointHex(readPublic((String) key.get("certificate_pem"))).equals(hex);
            }
            System.out.println((ok ? "ok   " : "FAIL ") + "key " + key.get("name"));
            if (ok) {
                passed++;
            } else {
                failed++;
            }
        }
        Map<String, byte[]> messages = new java.util.HashMap<>();
        for (Object item : (List<Object>) vectors.get("messages")) {
            Map<String, Object> message = (Map<String, Object>) item;
            messages.put((String) message.get("name"), Base64.getDecoder().decode((String) message.get("base64")));
        }
        for (Object item : (List<Object>) vectors.get("signatures")) {
            Map<String, Object> c = (Map<String, Object>) item;
            boolean expected = (Boolean) c.get("valid");
            byte[] data = messages.get((String) c.get("message"));
            boolean verdict = verify(keys.get((String) c.get("key")), data, toDer((String) c.get("signature")));
            boolean ok = verdict == expected;
            System.out.println((ok ? "ok   " : "FAIL ") + "signature " + c.get("key") + " over " + c.get("message")
                    + " (" + c.get("encoding") + ", " + c.get("made_by") + "): " + (verdict ? "valid" : "invalid"));
            if (ok) {
                passed++;
            } else {
                failed++;
            }
        }
        // a signature made here verifies under the vector key it was made with, and fails a changed byte
        PrivateKey legal = null;
        for (Object item : (List<Object>) vectors.get("keys")) {
            Map<String, Object> key = (Map<String, Object>) item;
            if ("legal_representative".equals(key.get("name"))) {
                legal = KeyFactory.getInstance("EC", "BC")
                        .generatePrivate(new PKCS8EncodedKeySpec(unpem((String) key.get("private_key_pem"))));
            }
        }
        byte[] register = messages.get("register");
        byte[] mine = sign(legal, register);
        byte[] changed = register.clone();
        changed[changed.length - 2] ^= 1;
        boolean ok = verify(keys.get("legal_representative"), register, mine)
                && !verify(keys.get("legal_representative"), changed, mine);
        System.out.println((ok ? "ok   " : "FAIL ") + "own signature round trip");
        if (ok) {
            passed++;
        } else {
            failed++;
        }
        System.out.println("java vectors: " + passed + " agree, " + failed + " disagree");
        return failed == 0 ? 0 : 1;
    }
}
