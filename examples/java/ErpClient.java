import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.Security;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.bouncycastle.crypto.digests.SM3Digest;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;

import cn.riskhub.hub.v1.AssessmentInput;
import cn.riskhub.hub.v1.AssessmentMethod;
import cn.riskhub.hub.v1.CompileRegisterRequest;
import cn.riskhub.hub.v1.CompileRegisterResponse;
import cn.riskhub.hub.v1.Contact;
import cn.riskhub.hub.v1.ControlMeasure;
import cn.riskhub.hub.v1.DeliveryState;
import cn.riskhub.hub.v1.DepartmentDelivery;
import cn.riskhub.hub.v1.EnterpriseProfile;
import cn.riskhub.hub.v1.EnterpriseServiceGrpc;
import cn.riskhub.hub.v1.FilingServiceGrpc;
import cn.riskhub.hub.v1.GetFilingStatusRequest;
import cn.riskhub.hub.v1.ImportItemResult;
import cn.riskhub.hub.v1.ImportItemStatus;
import cn.riskhub.hub.v1.ImportRiskPointsRequest;
import cn.riskhub.hub.v1.ImportRiskPointsResponse;
import cn.riskhub.hub.v1.RegisterEnterpriseRequest;
import cn.riskhub.hub.v1.RegisterEnterpriseResponse;
import cn.riskhub.hub.v1.RegisterSigningKeyRequest;
import cn.riskhub.hub.v1.RegisterVersion;
import cn.riskhub.hub.v1.RiskPointInput;
import cn.riskhub.hub.v1.RiskPointServiceGrpc;
import cn.riskhub.hub.v1.SigningRole;
import cn.riskhub.hub.v1.SubmitRegisterRequest;

/**
 * An ERP's side of the hub in Java, with grpc-java and BouncyCastle: register an enterprise, register
 * its two SM2 signing keys, import its risk points, compile the register, sign it and file it, then
 * follow every department's answer. The same walk as examples/node/erp.mjs, step for step.
 *
 * <pre>
 *   examples/java/build.sh examples/java/build        # protoc + javac against Debian's jars (make setup)
 *   java -cp "$(cat examples/java/build/classpath)" ErpClient CREDIT_CODE [--keys DIR]
 * </pre>
 *
 * Against `make run`: the gateway on 127.0.0.1:50051 (HUB_GATEWAY_ADDRESS), the integrator's registration
 * token in var/registration.token (or HUB_REGISTRATION_TOKEN); HUB_TLS_CA names a CA file for a gateway
 * behind TLS. The private keys are PEM files in DIR (default erp-keys), made by FilingSigner's keygen
 * on first use and kept by the ERP, readable by their owner only; they never leave it. Prints one JSON
 * line: the enterprise, the version, its SM3 hash and each department's answer; exits 1 naming the gRPC
 * code and the fields the hub refused.
 */
public final class ErpClient {
    static final Metadata.Key<String> REGISTRATION_TOKEN = header("x-hub-registration-token");
    static final Metadata.Key<String> KEY_ID = header("x-hub-key-id");
    static final Metadata.Key<String> SECRET = header("x-hub-secret");
    static final Set<DeliveryState> FINAL = Set.of(
            DeliveryState.DELIVERY_STATE_ACKNOWLEDGED, DeliveryState.DELIVERY_STATE_REJECTED,
            DeliveryState.DELIVERY_STATE_PARKED);
    static final long DEADLINE_SECONDS = 30;

    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        String creditCode = "91370405610704179F";
        Path keys = Path.of("erp-keys");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--keys")) {
                keys = Path.of(args[++i]);
            } else {
                creditCode = args[i];
            }
        }
        String address = env("HUB_GATEWAY_ADDRESS", "127.0.0.1:50051");
        ManagedChannel channel = Grpc.newChannelBuilder(address, credentials()).build();
        try {
            System.out.println(file(channel, creditCode, keys));
        } catch (StatusRuntimeException refused) {
            System.err.println(describe(refused));
            System.exit(1);
        } catch (IllegalStateException failed) {
            System.err.println(failed.getMessage());
            System.exit(1);
        } finally {
            channel.shutdown().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    static String file(ManagedChannel channel, String creditCode, Path keys) throws Exception {
        // 1. Register; the idempotency key makes a retry answer the same id and secret.
        Metadata integrator = new Metadata();
        integrator.put(REGISTRATION_TOKEN, registrationToken());
        RegisterEnterpriseResponse registered = EnterpriseServiceGrpc.newBlockingStub(channel)
                .withCallCredentials(headers(integrator))
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .registerEnterprise(RegisterEnterpriseRequest.newBuilder()
                        .setIdempotencyKey("java-erp-" + creditCode)
                        .setProfile(EnterpriseProfile.newBuilder()
                                .setUnifiedSocialCreditCode(creditCode)
                                .setName("台儿庄区示例精细化工有限公司")
                                .setLegalRepresentative("赵六")
                                .setLegalRepresentativeMobile("13800138001")
                                .setIndustry("化工")
                                .setAddress("张山子镇工业园2号")
                                .setTown("张山子镇")
                                .addContacts(Contact.newBuilder()
                                        .setName("钱安全").setRole("安全员").setMobile("13912345679")))
                        .build());
        Metadata own = new Metadata();
        own.put(KEY_ID, registered.getKeyId());
        own.put(SECRET, registered.getSecret());
        CallCredentials enterprise = headers(own);

        // 2. Two key pairs (legal representative, enterprise seal), kept by the ERP in its own files;
        //    their public keys registered as PEM (SubjectPublicKeyInfo), which the hub takes as they are.
        Files.createDirectories(keys, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Map<SigningRole, PrivateKey> signers = new LinkedHashMap<>();
        for (SigningRole role : List.of(SigningRole.SIGNING_ROLE_LEGAL_REPRESENTATIVE, SigningRole.SIGNING_ROLE_ENTERPRISE_SEAL)) {
            Path file = keys.resolve(creditCode + "-" + role.name().substring("SIGNING_ROLE_".length()).toLowerCase() + ".pem");
            if (!Files.exists(file)) {
                FilingSigner.keygen(file);
            }
            PrivateKey key = FilingSigner.readPrivate(file);
            signers.put(role, key);
            String publicPem = FilingSigner.pem("PUBLIC KEY", FilingSigner.publicOf(key).getEncoded());
            EnterpriseServiceGrpc.newBlockingStub(channel)
                    .withCallCredentials(enterprise)
                    .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .registerSigningKey(RegisterSigningKeyRequest.newBuilder().setRole(role).setPublicKey(publicPem).build());
        }

        // 3. Import the risk points: a client stream of pages, answered page by page, every item with
        //    its status (created, changed, unchanged or rejected with the fields at fault).
        List<RiskPointInput> items = riskPoints(creditCode);
        for (ImportItemResult result : importRiskPoints(channel, enterprise, items)) {
            if (result.getStatus() == ImportItemStatus.IMPORT_ITEM_STATUS_REJECTED) {
                StringBuilder why = new StringBuilder("rejected: risk point " + result.getExternalId());
                result.getViolationsList().forEach(v -> why.append("\n  field ").append(v.getField()).append(": ").append(v.getRule()));
                throw new IllegalStateException(why.toString());
            }
        }

        // 4. Compile. Right after the import the gateway waits until the filing service holds it
        //    (the consistency token, README "Consistency"). Check the bytes hash to the hub's SM3.
        CompileRegisterResponse compiled = FilingServiceGrpc.newBlockingStub(channel)
                .withCallCredentials(enterprise)
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .compileRegister(CompileRegisterRequest.getDefaultInstance());
        byte[] canonical = compiled.getCanonicalDocument().toByteArray(); // sign these bytes, as they came
        if (!sm3Hex(canonical).equals(compiled.getVersion().getDocumentHash())) {
            throw new IllegalStateException("the canonical bytes do not hash to document_hash");
        }

        // 5. Sign with SM3withSM2 and the default user id; BouncyCastle gives ASN.1 DER, sent as hex.
        long version = compiled.getVersion().getVersion();
        SubmitRegisterRequest submit = SubmitRegisterRequest.newBuilder()
                .setVersion(version)
                .setLegalRepresentativeSignature(FilingSigner.HEX.formatHex(
                        FilingSigner.sign(signers.get(SigningRole.SIGNING_ROLE_LEGAL_REPRESENTATIVE), canonical)))
                .setEnterpriseSealSignature(FilingSigner.HEX.formatHex(
                        FilingSigner.sign(signers.get(SigningRole.SIGNING_ROLE_ENTERPRISE_SEAL), canonical)))
                .build();
        // SubmitRegister checks the keys the filing service knows: keys registered a moment ago may not
        // have reached it yet ("no public key is registered"); send it again for a while.
        retrying(() -> FilingServiceGrpc.newBlockingStub(channel)
                .withCallCredentials(enterprise)
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .submitRegister(submit));

        // 6. Follow each department's answer: pending, delivered, then acknowledged (or rejected, with
        //    the department's reason).
        RegisterVersion status = null;
        for (int attempt = 0; attempt < 600; attempt++) {
            status = FilingServiceGrpc.newBlockingStub(channel)
                    .withCallCredentials(enterprise)
                    .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .getFilingStatus(GetFilingStatusRequest.newBuilder().setVersion(version).build())
                    .getVersion();
            if (status.getLedgerCount() > 0 && status.getLedgerList().stream().allMatch(d -> FINAL.contains(d.getState()))) {
                break;
            }
            Thread.sleep(300);
        }
        StringBuilder ledger = new StringBuilder();
        for (DepartmentDelivery delivery : status.getLedgerList()) {
            ledger.append(ledger.length() == 0 ? "" : ",")
                    .append(Json.quote(delivery.getDepartmentCode())).append(":{\"state\":")
                    .append(Json.quote(delivery.getState().name())).append(",\"reason\":")
                    .append(Json.quote(delivery.getReason())).append("}");
        }
        return "{\"enterprise_id\":" + Json.quote(registered.getEnterpriseId())
                + ",\"version\":" + status.getVersion()
                + ",\"document_hash\":" + Json.quote(status.getDocumentHash())
                + ",\"signature_format\":\"der\",\"ledger\":{" + ledger + "}}";
    }

    /** Sends the items in pages of 100 and answers every item's result, once the hub has answered all. */
    static List<ImportItemResult> importRiskPoints(ManagedChannel channel, CallCredentials enterprise, List<RiskPointInput> items)
            throws InterruptedException {
        List<ImportItemResult> results = new ArrayList<>();
        Throwable[] failed = new Throwable[1];
        CountDownLatch done = new CountDownLatch(1);
        StreamObserver<ImportRiskPointsRequest> pages = RiskPointServiceGrpc.newStub(channel)
                .withCallCredentials(enterprise)
                .withDeadlineAfter(5 * DEADLINE_SECONDS, TimeUnit.SECONDS)
                .importRiskPoints(new StreamObserver<ImportRiskPointsResponse>() {
                    @Override public void onNext(ImportRiskPointsResponse page) { results.addAll(page.getResultsList()); }
                    @Override public void onError(Throwable error) { failed[0] = error; done.countDown(); }
                    @Override public void onCompleted() { done.countDown(); }
                });
        for (int i = 0; i < items.size(); i += 100) {
            pages.onNext(ImportRiskPointsRequest.newBuilder().addAllItems(items.subList(i, Math.min(i + 100, items.size()))).build());
        }
        pages.onCompleted();
        done.await();
        if (failed[0] instanceof StatusRuntimeException refused) {
            throw refused;
        }
        if (failed[0] != null) {
            throw Status.fromThrowable(failed[0]).asRuntimeException();
        }
        return results;
    }

    static List<RiskPointInput> riskPoints(String code) {
        ControlMeasure rules = ControlMeasure.newBuilder().setType("制度管理").setDescription("严格执行安全操作规程，每班巡检").build();
        ControlMeasure monitored = ControlMeasure.newBuilder().setType("在线监测").setDescription("温度、压力在线监测，超限报警").build();
        return List.of(
                RiskPointInput.newBuilder()
                        .setExternalId(code + "-RP-1").setName("导热油炉").setLocation("二车间").setCategory("设备设施")
                        .addAllAccidentTypes(List.of("灼烫", "火灾"))
                        .setAssessment(AssessmentInput.newBuilder().setMethod(AssessmentMethod.ASSESSMENT_METHOD_LEC)
                                .putScores("L", 3).putScores("E", 6).putScores("C", 15))
                        .setResponsibleUnit("二车间").setResponsiblePerson("孙班长").setResponsibleMobile("13700000001")
                        .addControlMeasures(rules).addControlMeasures(monitored)
                        .addEmergencyMeasures("切断燃气，启动灭火器材")
                        .addAdjacentUnits("北邻：相邻企业") // level 2 and above name whom to notify
                        .build(),
                RiskPointInput.newBuilder()
                        .setExternalId(code + "-RP-2").setName("桶装物料装卸区").setLocation("成品库").setCategory("操作行为")
                        .addAccidentTypes("起重伤害")
                        .setAssessment(AssessmentInput.newBuilder().setMethod(AssessmentMethod.ASSESSMENT_METHOD_LEC)
                                .putScores("L", 1).putScores("E", 6).putScores("C", 7))
                        .setResponsibleUnit("储运班").setResponsiblePerson("周师傅").setResponsibleMobile("13700000002")
                        .addControlMeasures(rules)
                        .addEmergencyMeasures("停机，疏散作业区人员")
                        .build());
    }

    static <T> T retrying(Supplier<T> call) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                return call.get();
            } catch (StatusRuntimeException error) {
                String detail = String.valueOf(error.getStatus().getDescription());
                if (!detail.contains("no public key is registered") || attempt >= 150) {
                    throw error;
                }
                Thread.sleep(200);
            }
        }
    }

    /** The code, the message and every field the hub named (google.rpc.BadRequest in the status details). */
    static String describe(StatusRuntimeException refused) {
        StringBuilder text = new StringBuilder("refused: " + refused.getStatus().getCode() + ": " + refused.getStatus().getDescription());
        com.google.rpc.Status status = StatusProto.fromThrowable(refused);
        if (status != null) {
            for (Any detail : status.getDetailsList()) {
                if (detail.is(BadRequest.class)) {
                    try {
                        for (BadRequest.FieldViolation violation : detail.unpack(BadRequest.class).getFieldViolationsList()) {
                            text.append("\n  field ").append(violation.getField()).append(": ").append(violation.getDescription());
                        }
                    } catch (com.google.protobuf.InvalidProtocolBufferException unreadable) {
                        text.append("\n  (unreadable details)");
                    }
                }
            }
        }
        return text.toString();
    }

    static String sm3Hex(byte[] data) {
        SM3Digest digest = new SM3Digest();
        digest.update(data, 0, data.length);
        byte[] out = new byte[digest.getDigestSize()];
        digest.doFinal(out, 0);
        return FilingSigner.HEX.formatHex(out);
    }

    static ChannelCredentials credentials() throws Exception {
        String ca = System.getenv("HUB_TLS_CA");
        if (ca == null || ca.isEmpty()) {
            return InsecureChannelCredentials.create();
        }
        return TlsChannelCredentials.newBuilder().trustManager(new File(ca)).build();
    }

    static String registrationToken() throws Exception {
        String token = System.getenv("HUB_REGISTRATION_TOKEN");
        if (token != null && !token.isEmpty()) {
            return token;
        }
        Path file = Path.of(env("HUB_RUNTIME_DIR", "var"), "registration.token");
        return Files.readString(file, StandardCharsets.UTF_8).trim();
    }

    /** Headers sent with every call of a stub: the integrator's token, or the enterprise's key id and secret. */
    static CallCredentials headers(Metadata values) {
        return new CallCredentials() {
            @Override
            public void applyRequestMetadata(RequestInfo info, java.util.concurrent.Executor executor, MetadataApplier applier) {
                applier.apply(values);
            }

            @Override
            public void thisUsesUnstableApi() {
            }
        };
    }

    static Metadata.Key<String> header(String name) {
        return Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
    }

    static String env(String name, String otherwise) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? otherwise : value;
    }
}
