using Npgsql;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>Stamps a binding's last accepted delivery. Applied = the binding still exists.</summary>
internal sealed class BindingDeliveryStamp(string bindingId, DateTimeOffset at) : GroupWrite(Statement)
{
    internal static readonly GroupWriteKind Statement = new StampKind();

    private readonly string _bindingId = bindingId;
    private readonly DateTimeOffset _at = at;

    private sealed class StampKind() : GroupWriteKind("update bindings", Sql)
    {
        // Nobody's answer waits for the stamp.
        public override bool MayWait => true;

        // The latest stamp per binding when a batch carries several for one, and never one older than the stored one
        // (stamps of concurrent deliveries may commit out of order).
        private const string Sql = """
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS i(id, at, position)),
            b AS (
                UPDATE bindings SET last_delivery_at = GREATEST(bindings.last_delivery_at, latest.at)
                FROM (SELECT id, max(at) AS at FROM input GROUP BY id) AS latest
                WHERE bindings.id = latest.id
                RETURNING bindings.id)
            SELECT input.position FROM input JOIN b ON b.id = input.id
            """;

        public override NpgsqlBatchCommand Build(IReadOnlyList<GroupWrite> writes)
        {
            var rows = writes.Cast<BindingDeliveryStamp>().ToArray();
            var command = new NpgsqlBatchCommand(Sql);
            command.Parameters.Add(PgParameters.TextArray([.. rows.Select(r => r._bindingId)]));
            command.Parameters.Add(PgParameters.TimeArray([.. rows.Select(r => (DateTimeOffset?)r._at)]));
            return command;
        }
    }
}
