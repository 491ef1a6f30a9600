/**
 * CompShare request signing: the reference vectors reproduced exactly, our own vectors for
 * what the reference does not cover (nested arrays of objects, bools, floats, UTF-8, key
 * order), and the rule that the wire form is the signed form.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CompShareClient } from "../../src/compshare/client";
import { flatten, formEncode, numberToString, sign, stringToSign } from "../../src/compshare/signature";

const REF_PUBLIC = "ucloudsomeone@example.com1296235120854146120";
const REF_PRIVATE = "46f09bb9fab4f12dfc160dae12273d5332b5debe";

describe("reference vectors", () => {
  it("V4: DescribeUHostInstance, with a null member skipped", () => {
    const flat = flatten({ Action: "DescribeUHostInstance", Region: "cn-bj2", Limit: 10, Foo: null, PublicKey: REF_PUBLIC });
    expect(stringToSign(flat, REF_PRIVATE)).toBe(
      "ActionDescribeUHostInstanceLimit10PublicKeyucloudsomeone@example.com1296235120854146120Regioncn-bj246f09bb9fab4f12dfc160dae12273d5332b5debe",
    );
    expect(sign(flat, REF_PRIVATE)).toBe("cba5cf5ec4d4233d206b1b54951e3787350a642f");
  });

  it("V5: foo=bar without a public key", () => {
    expect(stringToSign(flatten({ foo: "bar" }), "my_private_key")).toBe("foobarmy_private_key");
    expect(sign(flatten({ foo: "bar" }), "my_private_key")).toBe("634edc1bb957c0d65e5ab5494cf3b7784fbc87af");
  });

  it("V6: foo=bar with a public key, which sorts first (uppercase before lowercase)", () => {
    const flat = flatten({ foo: "bar", PublicKey: "my_public_key" });
    expect(stringToSign(flat, "my_private_key")).toBe("PublicKeymy_public_keyfoobarmy_private_key");
    expect(sign(flat, "my_private_key")).toBe("d4411ab30953fb0bbcb1e7313081f05e4e91a394");
  });

  it("V4 through the client: the Signature it sends is the reference one", () => {
    const client = new CompShareClient({ publicKey: REF_PUBLIC, privateKey: REF_PRIVATE, baseUrl: "http://127.0.0.1:9" });
    const { fields } = client.signedRequest("DescribeUHostInstance", { Region: "cn-bj2", Limit: 10, Foo: null });
    expect(fields.Signature).toBe("cba5cf5ec4d4233d206b1b54951e3787350a642f");
    expect(Object.keys(fields).sort()).toEqual(["Action", "Limit", "PublicKey", "Region", "Signature"]);
  });
});

describe("what the Go SDK leaves out (vectors printed by ucloud-sdk-go v0.22.98's own encoder and signer)", () => {
  it("a request struct: empty strings go, nil array entries go and the rest renumber", () => {
    // request.EncodeForm + Credential.Apply on a struct with Ids []*string{a, nil, c}, Empty "" and Disks [{Type "", Size 40}]
    const params = {
      Action: "DescribeCompShareInstance",
      Region: "cn-wlcb",
      Ids: ["uhost-a", null, "uhost-c"],
      Name: "n",
      Empty: "",
      Disks: [{ Type: "", Size: 40 }],
      PublicKey: REF_PUBLIC,
    };
    const flat = flatten(params);
    expect(flat).toEqual({
      Action: "DescribeCompShareInstance",
      "Disks.0.Size": "40",
      "Ids.0": "uhost-a",
      "Ids.1": "uhost-c",
      Name: "n",
      PublicKey: REF_PUBLIC,
      Region: "cn-wlcb",
    });
    expect(sign(flat, REF_PRIVATE)).toBe("b0d33c5b0232b99e50a8cadd1d212ac20c10e4ad");
  });

  it("a generic payload: an empty string in a list is skipped but its index is not reused", () => {
    const flat = flatten({ Action: "X", Empty: "", List: ["a", "", "c"], Obj: { K: "", L: 1 }, PublicKey: "pk" });
    expect(flat).toEqual({ Action: "X", "List.0": "a", "List.2": "c", "Obj.L": "1", PublicKey: "pk" });
    expect(sign(flat, "sk")).toBe("88ca889d290d363675ef6d63570f187edae2a7da");
  });

  it("call() of an arbitrary action sends and signs the same map", () => {
    const client = new CompShareClient({ publicKey: "pk", privateKey: "sk", baseUrl: "http://127.0.0.1:9" });
    const { fields, body } = client.signedRequest("X", { Empty: "", List: ["a", null, "", "c"], Obj: { K: "", L: 1 }, Gone: null });
    expect(fields).toEqual({ Action: "X", "List.0": "a", "List.2": "c", "Obj.L": "1", PublicKey: "pk", Signature: "88ca889d290d363675ef6d63570f187edae2a7da" });
    expect(body).not.toContain("Empty");
  });
});

describe("our own vectors (expected values computed with python3 hashlib)", () => {
  it("nested arrays of objects, bools, floats and UTF-8", () => {
    const flat = flatten({
      Action: "CreateCompShareInstance",
      Disks: [
        { IsBoot: true, Size: 40, Type: "CLOUD_SSD" },
        { IsBoot: false, Size: 100, Type: "CLOUD_SSD" },
      ],
      Name: "训练-机.1",
      Price: 2.5,
      Ratio: 42.0,
      Tiny: 1e-7,
      PublicKey: "pk",
    });
    expect(flat).toEqual({
      Action: "CreateCompShareInstance",
      "Disks.0.IsBoot": "true",
      "Disks.0.Size": "40",
      "Disks.0.Type": "CLOUD_SSD",
      "Disks.1.IsBoot": "false",
      "Disks.1.Size": "100",
      "Disks.1.Type": "CLOUD_SSD",
      Name: "训练-机.1",
      Price: "2.5",
      Ratio: "42",
      Tiny: "0.0000001",
      PublicKey: "pk",
    });
    expect(stringToSign(flat, "sk")).toBe(
      "ActionCreateCompShareInstanceDisks.0.IsBoottrueDisks.0.Size40Disks.0.TypeCLOUD_SSD" +
        "Disks.1.IsBootfalseDisks.1.Size100Disks.1.TypeCLOUD_SSDName训练-机.1Price2.5PublicKeypkRatio42Tiny0.0000001sk",
    );
    expect(sign(flat, "sk")).toBe("740c4caa52e33e1c68a8596ae88cf24c2e43f894");
  });

  it("sorts keys as plain text: CPU < ChargeType, GPU < GpuType, Items.10 < Items.2", () => {
    const flat = flatten({
      GpuType: "4090",
      GPU: 1,
      ChargeType: "Dynamic",
      CPU: 8,
      Items: Array.from({ length: 12 }, (_, i) => i),
    });
    expect(stringToSign(flat, "sk")).toBe(
      "CPU8ChargeTypeDynamicGPU1GpuType4090Items.00Items.11Items.1010Items.1111Items.22Items.33Items.44Items.55Items.66Items.77Items.88Items.99sk",
    );
    expect(sign(flat, "sk")).toBe("7d1d925e27f19506e5b4fe5940935895e72de181");
  });

  it("flattens objects inside objects and drops empty strings and undefined, as the Go SDK does", () => {
    expect(flatten({ Nest: [{ Nest2: { Int: 1, Off: false } }], Empty: "", Gone: undefined })).toEqual({
      "Nest.0.Nest2.Int": "1",
      "Nest.0.Nest2.Off": "false",
    });
  });

  it("never writes a number in exponent notation", () => {
    expect(numberToString(42)).toBe("42");
    expect(numberToString(-0)).toBe("0");
    expect(numberToString(0.1)).toBe("0.1");
    expect(numberToString(1.5e-7)).toBe("0.00000015");
    expect(numberToString(-2.5e-8)).toBe("-0.000000025");
    expect(numberToString(1e21)).toBe("1000000000000000000000");
    expect(numberToString(1.25e22)).toBe("12500000000000000000000");
    expect(() => numberToString(Number.NaN)).toThrow(/finite/);
  });

  it("is plain SHA1 hex of the UTF-8 text", () => {
    const flat = { Name: "优云智算" };
    expect(sign(flat, "k")).toBe(createHash("sha1").update(Buffer.from("Name优云智算k", "utf8")).digest("hex"));
  });
});

describe("wire form equals signed form", () => {
  it("the form body decodes to exactly the signed map, Signature included", () => {
    const client = new CompShareClient({ publicKey: "pub+key/=", privateKey: "priv", projectId: "org-x", baseUrl: "http://127.0.0.1:9" });
    const { fields, body } = client.signedRequest("CreateCompShareInstance", {
      Name: "a b&c=d+训练",
      Disks: [{ IsBoot: true, Type: "CLOUD_SSD", Size: 40 }],
      EnableUS3: false,
    });
    const received = Object.fromEntries(new URLSearchParams(body));
    expect(received).toEqual(fields);
    expect(received["Disks.0.IsBoot"]).toBe("true");
    expect(received.EnableUS3).toBe("false");
    expect(received.ProjectId).toBe("org-x");
    expect(received.PublicKey).toBe("pub+key/=");
    const { Signature, ...rest } = received;
    expect(sign(rest, "priv")).toBe(Signature);
    // a "+" must be escaped, or the gateway reads a space and answers 172
    expect(body).toContain("PublicKey=pub%2Bkey%2F%3D");
    expect(body).not.toContain("priv&");
  });

  it("formEncode escapes every key and value", () => {
    expect(formEncode({ "a b": "c&d", e: "训" })).toBe("a%20b=c%26d&e=%E8%AE%AD");
  });
});
