using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CallNotify.Infrastructure.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class InitialCreate : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "bindings",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 34, nullable: false),
                    account_sid = table.Column<string>(type: "TEXT", maxLength: 34, nullable: false),
                    identity = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    channel = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    address = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    environment = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    app_id = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    inactive_reason = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false),
                    last_delivery_at = table.Column<long>(type: "INTEGER", nullable: true),
                    address_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_bindings", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "call_notifications",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 34, nullable: false),
                    account_sid = table.Column<string>(type: "TEXT", maxLength: 34, nullable: false),
                    twi_message_id = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    call_sid = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    from = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    to = table.Column<string>(type: "TEXT", maxLength: 263, nullable: false),
                    identity = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    message_type = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    raw_body = table.Column<byte[]>(type: "BLOB", nullable: false),
                    received_at = table.Column<long>(type: "INTEGER", nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false),
                    outcome = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    version = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_call_notifications", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "deliveries",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 34, nullable: false),
                    notification_id = table.Column<string>(type: "TEXT", maxLength: 34, nullable: false),
                    binding_id = table.Column<string>(type: "TEXT", maxLength: 34, nullable: true),
                    session_id = table.Column<string>(type: "TEXT", maxLength: 34, nullable: true),
                    channel = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    last_error = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    client_gone = table.Column<bool>(type: "INTEGER", nullable: false),
                    accepted_at = table.Column<long>(type: "INTEGER", nullable: true),
                    acknowledged_at = table.Column<long>(type: "INTEGER", nullable: true),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "fk_deliveries_call_notifications_notification_id",
                        column: x => x.notification_id,
                        principalTable: "call_notifications",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_bindings_account_sid_identity_status",
                table: "bindings",
                columns: new[] { "account_sid", "identity", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_bindings_channel_address_hash",
                table: "bindings",
                columns: new[] { "channel", "address_hash" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_call_notifications_account_sid_identity",
                table: "call_notifications",
                columns: new[] { "account_sid", "identity" });

            migrationBuilder.CreateIndex(
                name: "ix_call_notifications_account_sid_twi_message_id",
                table: "call_notifications",
                columns: new[] { "account_sid", "twi_message_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_call_notifications_received_at",
                table: "call_notifications",
                column: "received_at");

            migrationBuilder.CreateIndex(
                name: "ix_deliveries_binding_id",
                table: "deliveries",
                column: "binding_id");

            migrationBuilder.CreateIndex(
                name: "ix_deliveries_notification_id",
                table: "deliveries",
                column: "notification_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "bindings");

            migrationBuilder.DropTable(
                name: "deliveries");

            migrationBuilder.DropTable(
                name: "call_notifications");
        }
    }
}
