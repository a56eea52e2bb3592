using Npgsql;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// One row's write for <see cref="GroupCommit"/>: the writes of one <see cref="Kind"/> in a batch become a single
/// multi-row statement.
/// </summary>
public abstract class GroupWrite(GroupWriteKind kind)
{
    public GroupWriteKind Kind { get; } = kind;

    /// <summary>
    /// Forgets what an earlier run of this write read back (<see cref="GroupWriteKind.ReadRow"/>): the group commit runs
    /// a write again, alone, after its batch rolled back.
    /// </summary>
    protected internal virtual void Reset()
    {
    }
}

/// <summary>
/// How the writes of one kind become one statement. Sharing a statement is what makes a batch cheap: PostgreSQL plans,
/// locks and starts an executor once for the whole set instead of once per row.
/// </summary>
public abstract class GroupWriteKind(string name, string queryText)
{
    /// <summary>What the statement writes, for logs and spans.</summary>
    public string Name { get; } = name;

    /// <summary>The statement's text, for spans.</summary>
    public string QueryText { get; } = queryText;

    /// <summary>
    /// True for writes nobody's answer waits for (a delivery's events, a binding's stamp): the group commit lets them
    /// gather for a few milliseconds first (<see cref="GroupCommit.Linger"/>), so that many share one transaction.
    /// </summary>
    public virtual bool MayWait => false;

    /// <summary>
    /// One statement that writes every row of <paramref name="writes"/> (all of this kind) and returns one row per
    /// write it applied: that write's 1-based position in the list as its first column, a <c>bigint</c> (PostgreSQL's
    /// <c>WITH ORDINALITY</c>). A write not returned was not applied (an insert whose key was taken, as the statement defines).
    /// </summary>
    public abstract NpgsqlBatchCommand Build(IReadOnlyList<GroupWrite> writes);

    /// <summary>
    /// Reads one row the statement returned for <paramref name="write"/> (whose position the first column gave): true
    /// when it says the write was applied. By default every row returned does; a statement that returns more than its
    /// position reads the rest here.
    /// </summary>
    public virtual bool ReadRow(NpgsqlDataReader reader, GroupWrite write) => true;
}
