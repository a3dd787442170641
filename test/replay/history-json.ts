// Histories as protobufjs JSON (enum names, base64 payloads), written and read with the same
// @temporalio/proto. (The SDK's proto3-json helpers trip over a second protobufjs copy here.)
import proto from '@temporalio/proto';

const { History } = proto.temporal.api.history.v1;

export function historyToJSON(history: proto.temporal.api.history.v1.IHistory): string {
  return `${JSON.stringify(History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String }), null, 1)}\n`;
}

export function historyFromJSON(json: string): proto.temporal.api.history.v1.History {
  return History.fromObject(JSON.parse(json) as object);
}
