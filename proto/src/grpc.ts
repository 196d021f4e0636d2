// grpc-js service definition for vigil.v1.Ingest, serialising with protobuf-es (toBinary/fromBinary).
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  AgentMessageSchema,
  CollectorMessageSchema,
  Ingest,
  type AgentMessage,
  type CollectorMessage,
} from "../gen/vigil/v1/ingest_pb.js";

const connect = Ingest.method.connect;

export const ingestServiceDefinition = {
  connect: {
    path: `/${Ingest.typeName}/${connect.name}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (m: AgentMessage) => Buffer.from(toBinary(AgentMessageSchema, m)),
    requestDeserialize: (b: Buffer) => fromBinary(AgentMessageSchema, b),
    responseSerialize: (m: CollectorMessage) => Buffer.from(toBinary(CollectorMessageSchema, m)),
    responseDeserialize: (b: Buffer) => fromBinary(CollectorMessageSchema, b),
  },
} satisfies grpc.ServiceDefinition;

export interface IngestClient extends grpc.Client {
  connect(metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<AgentMessage, CollectorMessage>;
}

export const IngestClient = grpc.makeGenericClientConstructor(ingestServiceDefinition, "Ingest") as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => IngestClient;
