// Drives one `elanus serve` port with Milvus's Node SDK: gRPC (MilvusClient) and
// REST v2 (HttpClient) at the same address. Prints one JSON object of what each
// side saw; tests/server/test_node_sdk.py checks it.
import { HttpClient, MilvusClient } from '@zilliz/milvus2-sdk-node';

const address = process.argv[2];
const name = 'node_sdk';
const grpc = new MilvusClient({ address });
await grpc.createCollection({ collection_name: name, dimension: 4 });
const rows = [0, 1, 2, 3, 4].map((i) => ({ id: i, vector: [i, 0, 0, 1] }));
const inserted = await grpc.insert({ collection_name: name, data: rows });
const grpcSearch = await grpc.search({
  collection_name: name,
  data: [3, 0, 0, 1],
  limit: 2,
});
const rest = new HttpClient({ endpoint: `http://${address}` });
const restList = await rest.listCollections({});
const restSearch = await rest.search({
  collectionName: name,
  data: [[3, 0, 0, 1]],
  limit: 2,
});
await grpc.closeConnection();
console.log(
  JSON.stringify({
    insert: inserted.status,
    grpc_hits: grpcSearch.results,
    grpc_status: grpcSearch.status,
    rest_collections: restList,
    rest_hits: restSearch,
  }),
);
