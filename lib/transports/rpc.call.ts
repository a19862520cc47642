import { groupAddress } from './client-ip';
import type { LimitedCall } from './limited-call';
import { optionalPackage } from './optional-package';
import { MessageCall } from './message-call';
import type { Refusal } from './refusal';

type RpcExceptionClass = new (error: object) => Error;

/** The status numbers an RPC refusal carries, as their HTTP equivalents (clients often map them back). */
const STATUS = { TOO_MANY_REQUESTS: 429, SERVICE_UNAVAILABLE: 503, CLIENT_CLOSED_REQUEST: 499 } as const;

/**
 * One microservice message (TCP, Redis, NATS...). A refusal is an RpcException the client
 * receives as its error. Only TCP exposes the caller's address; on the other transports the
 * default key is one bucket for all callers of the pattern: limit per tenant with a `key`.
 */
export class RpcCall extends MessageCall implements LimitedCall {
  readonly transport = 'rpc' as const;
  readonly request: any;

  /** `args` is the handler's (data, context). */
  constructor(private readonly args: unknown[]) {
    super();
    this.request = args[0];
  }

  ip(): string | undefined {
    const context = this.args[1] as { getSocketRef?: () => any } | undefined;
    const address: unknown = context?.getSocketRef?.()?.socket?.remoteAddress;
    return typeof address === 'string' && address.length > 0 ? groupAddress(address) : undefined;
  }

  user(): unknown {
    return this.request?.user;
  }

  header(name: string): string | undefined {
    const context = this.args[1] as { getHeaders?: () => any } | undefined;
    const value = context?.getHeaders?.()?.[name.toLowerCase()];
    return typeof value === 'string' ? value : undefined;
  }

  fallbackKey(): string {
    return this.ip() ?? '*';
  }

  onDisconnect(): () => void {
    return () => undefined;
  }

  protected error(refusal: Refusal): Error {
    const { RpcException } = optionalPackage<{ RpcException: RpcExceptionClass }>('@nestjs/microservices');
    return new RpcException({ status: STATUS[refusal.code], ...refusal });
  }
}
