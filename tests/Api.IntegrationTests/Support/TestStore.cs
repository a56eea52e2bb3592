using CallNotify.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CallNotify.Api.IntegrationTests.Support;

public enum StoreKind
{
    Postgres,
    Sqlite,
}

/// <summary>A database of its own for one test fixture: a fresh PostgreSQL database or SQLite file, removed afterwards.</summary>
public sealed class TestStore : IAsyncDisposable
{
    private readonly string? _postgresDatabase;
    private readonly string? _sqliteDirectory;

    private TestStore(StoreKind kind, string connectionString, string? postgresDatabase, string? sqliteDirectory)
    {
        Kind = kind;
        ConnectionString = connectionString;
        _postgresDatabase = postgresDatabase;
        _sqliteDirectory = sqliteDirectory;
    }

    public StoreKind Kind { get; }

    public string ConnectionString { get; }

    public static async Task<TestStore> CreateAsync(StoreKind kind)
    {
        if (kind == StoreKind.Sqlite)
        {
            var directory = Directory.CreateTempSubdirectory("callnotify-test-");
            return new TestStore(kind, $"Data Source={Path.Combine(directory.FullName, "callnotify.db")}", null, directory.FullName);
        }

        var name = "callnotify_test_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(PostgresServer.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Database = name, Pooling = true };
        return new TestStore(kind, builder.ToString(), name, null);
    }

    /// <summary>A fresh PostgreSQL database with the schema the model's migrations create.</summary>
    public static async Task<TestStore> CreateMigratedPostgresAsync()
    {
        var store = await CreateAsync(StoreKind.Postgres);
        await using var db = new PostgresCallNotifyDbContext(
            (DbContextOptions<PostgresCallNotifyDbContext>)new DbContextOptionsBuilder<PostgresCallNotifyDbContext>().UseCallNotifyPostgres(store.ConnectionString).Options);
        await db.Database.MigrateAsync();
        return store;
    }

    /// <summary>The maintenance database of a server of the test's own (<see cref="OwnPostgresServer"/>), removed with it.</summary>
    public static TestStore OnOwnServer(OwnPostgresServer server) => new(StoreKind.Postgres, server.ConnectionString, null, null);

    public async ValueTask DisposeAsync()
    {
        if (_sqliteDirectory is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_sqliteDirectory, recursive: true);
        }

        if (_postgresDatabase is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(PostgresServer.ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_postgresDatabase}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
