/**
 * The join secret: a stack-owned Secrets Manager secret through which the control plane hands
 * the workers a short-lived kubeadm token and the pinned CA hash. CloudFormation creates it
 * holding only {"state":"pending", "nonce":<random>}; the control plane writes the real value at
 * boot. So the token is never in the template, user data, outputs or logs, and only the lab's
 * own roles can touch it.
 */
import { RemovalPolicy, Validations, aws_iam as iam, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export class JoinSecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'cilium-lab: kubeadm join token and CA hash, written by the control plane at boot',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ state: 'pending' }),
        generateStringKey: 'nonce',
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The value is a kubeadm bootstrap token with a TTL of minutes to hours, created per deploy; rotation adds nothing to a token that expires by itself.',
    });
  }

  /** The control plane writes the token; it never reads it back. */
  grantPublish(role: iam.IGrantable): void {
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: [this.secret.secretArn] }),
    );
  }

  /** Workers read it to join. */
  grantJoin(role: iam.IGrantable): void {
    this.secret.grantRead(role);
  }
}
