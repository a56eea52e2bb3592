using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace CallNotify.Infrastructure.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AppendOnlyDeliveries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "sequence",
                table: "delivery_events",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "due_at",
                table: "delivery_events",
                type: "timestamp with time zone",
                nullable: true);

            // The history must say what the columns dropped below said (ADR 0021).
            migrationBuilder.Sql(AppendOnlyDeliveriesBackfill.NumberEvents);

            migrationBuilder.Sql(AppendOnlyDeliveriesBackfill.DueTimes);

            migrationBuilder.DropPrimaryKey(
                name: "pk_delivery_events",
                table: "delivery_events");

            migrationBuilder.DropIndex(
                name: "ix_delivery_events_delivery_id",
                table: "delivery_events");

            migrationBuilder.DropIndex(
                name: "ix_deliveries_status_next_attempt_at",
                table: "deliveries");

            migrationBuilder.DropColumn(
                name: "id",
                table: "delivery_events");

            migrationBuilder.DropColumn(
                name: "accepted_at",
                table: "deliveries");

            migrationBuilder.DropColumn(
                name: "acknowledged_at",
                table: "deliveries");

            migrationBuilder.DropColumn(
                name: "attempts",
                table: "deliveries");

            migrationBuilder.DropColumn(
                name: "client_gone",
                table: "deliveries");

            migrationBuilder.DropColumn(
                name: "last_error",
                table: "deliveries");

            migrationBuilder.DropColumn(
                name: "next_attempt_at",
                table: "deliveries");

            migrationBuilder.DropColumn(
                name: "status",
                table: "deliveries");

            migrationBuilder.DropColumn(
                name: "outcome",
                table: "call_notifications");

            migrationBuilder.DropColumn(
                name: "version",
                table: "call_notifications");

            migrationBuilder.RenameColumn(
                name: "updated_at",
                table: "deliveries",
                newName: "created_at");

            migrationBuilder.Sql(AppendOnlyDeliveriesBackfill.CreationTimes);

            migrationBuilder.AlterTable(
                name: "deliveries")
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.AlterTable(
                name: "call_notifications")
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.AddPrimaryKey(
                name: "pk_delivery_events",
                table: "delivery_events",
                columns: new[] { "delivery_id", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_delivery_events_due_at",
                table: "delivery_events",
                column: "due_at",
                filter: "due_at IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "pk_delivery_events",
                table: "delivery_events");

            migrationBuilder.DropIndex(
                name: "ix_delivery_events_due_at",
                table: "delivery_events");

            migrationBuilder.DropColumn(
                name: "sequence",
                table: "delivery_events");

            migrationBuilder.DropColumn(
                name: "due_at",
                table: "delivery_events");

            migrationBuilder.RenameColumn(
                name: "created_at",
                table: "deliveries",
                newName: "updated_at");

            migrationBuilder.AlterTable(
                name: "deliveries")
                .Annotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.AlterTable(
                name: "call_notifications")
                .Annotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.AddColumn<long>(
                name: "id",
                table: "delivery_events",
                type: "bigint",
                nullable: false,
                defaultValue: 0L)
                .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "accepted_at",
                table: "deliveries",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "acknowledged_at",
                table: "deliveries",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "attempts",
                table: "deliveries",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<bool>(
                name: "client_gone",
                table: "deliveries",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "last_error",
                table: "deliveries",
                type: "character varying(500)",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "next_attempt_at",
                table: "deliveries",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "status",
                table: "deliveries",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "outcome",
                table: "call_notifications",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<int>(
                name: "version",
                table: "call_notifications",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddPrimaryKey(
                name: "pk_delivery_events",
                table: "delivery_events",
                column: "id");

            migrationBuilder.CreateIndex(
                name: "ix_delivery_events_delivery_id",
                table: "delivery_events",
                column: "delivery_id");

            migrationBuilder.CreateIndex(
                name: "ix_deliveries_status_next_attempt_at",
                table: "deliveries",
                columns: new[] { "status", "next_attempt_at" });
        }
    }
}
