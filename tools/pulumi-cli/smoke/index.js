// Offline smoke program for the Pulumi CLI built by scripts/pulumi-cli.mjs.
// One dynamic resource whose provider captures no outer state, so it
// serializes without touching anything but @pulumi/pulumi.
"use strict";
const pulumi = require("@pulumi/pulumi");

const provider = {
  async create(inputs) {
    return { id: `smoke-${inputs.name}`, outs: { ...inputs, createdBy: "pulumi-cli-smoke" } };
  },
  async delete() {},
};

class SmokeThing extends pulumi.dynamic.Resource {
  constructor(name, args, opts) {
    super(provider, name, { createdBy: undefined, ...args }, opts);
  }
}

const thing = new SmokeThing("thing", { name: "hello" });
exports.thingId = thing.id;
exports.createdBy = thing.createdBy;
