/**
 * Program-side half of the identity (see `identity.ts`): a resource class computes its
 * `identity` input from what only the program knows, the stack and the resource's place in it.
 */
import * as pulumi from "@pulumi/pulumi";
import { identityOf } from "./identity";

interface Named {
  __pulumiType?: string;
  __name?: string;
  __parentResource?: Named;
}

/** `type::name` of each parent, outermost first; the stack resource is left out. */
function parentsOf(parent: pulumi.Resource | undefined): string[] {
  const chain: string[] = [];
  for (let p = parent as Named | undefined; p && p.__pulumiType !== "pulumi:pulumi:Stack"; p = p.__parentResource) {
    chain.unshift(`${p.__pulumiType ?? "?"}::${p.__name ?? "?"}`);
  }
  return chain;
}

/** The organization, or Pulumi's name for it on a self-managed backend when the runtime has none (mocks). */
function organization(): string {
  try {
    return pulumi.getOrganization();
  } catch {
    return "organization";
  }
}

/** The `identity` input of a resource of this type and name declared with these options. */
export function declaredIdentity(type: string, name: string, opts: pulumi.CustomResourceOptions | undefined): string {
  return identityOf({
    organization: organization(),
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    type,
    name,
    parents: parentsOf(opts?.parent),
  });
}
