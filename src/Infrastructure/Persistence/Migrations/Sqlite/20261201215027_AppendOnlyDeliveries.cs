using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CallNotify.Infrastructure.Persistence.Migrations.Sqlite
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
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<long>(
                name: "due_at",
                table: "delivery_events",
                type: "INTEGER",
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
                name: "due_at",
                table: "delivery_events");

            migrationBuilder.RenameColumn(
                name: "sequence",
                table: "delivery_events",
                newName: "id");

            migrationBuilder.RenameColumn(
                name: "created_at",
                table: "deliveries",
                newName: "updated_at");

            migrationBuilder.AlterColumn<long>(
                name: "id",
                table: "delivery_events",
                type: "INTEGER",
                nullable: false,
                oldClrType: typeof(int),
                oldType: "INTEGER")
                .Annotation("Sqlite:Autoincrement", true);

            migrationBuilder.AddColumn<long>(
                name: "accepted_at",
                table: "deliveries",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "acknowledged_at",
                table: "deliveries",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "attempts",
                table: "deliveries",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<bool>(
                name: "client_gone",
                table: "deliveries",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "last_error",
                table: "deliveries",
                type: "TEXT",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "next_attempt_at",
                table: "deliveries",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "status",
                table: "deliveries",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "outcome",
                table: "call_notifications",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<int>(
                name: "version",
                table: "call_notifications",
                type: "INTEGER",
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
