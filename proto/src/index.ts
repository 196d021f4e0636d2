export * from "../gen/vigil/v1/ingest_pb.js";
export { ingestServiceDefinition, IngestClient } from "./grpc.js";
