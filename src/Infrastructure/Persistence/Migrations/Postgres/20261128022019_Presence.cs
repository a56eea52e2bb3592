using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CallNotify.Infrastructure.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Presence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "instances",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(34)", maxLength: 34, nullable: false),
                    heartbeat_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_instances", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "live_sessions",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(34)", maxLength: 34, nullable: false),
                    instance_id = table.Column<string>(type: "character varying(34)", maxLength: 34, nullable: false),
                    account_sid = table.Column<string>(type: "character varying(34)", maxLength: 34, nullable: false),
                    identity = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    connected_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_live_sessions", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_instances_heartbeat_at",
                table: "instances",
                column: "heartbeat_at");

            migrationBuilder.CreateIndex(
                name: "ix_live_sessions_account_sid_identity",
                table: "live_sessions",
                columns: new[] { "account_sid", "identity" });

            migrationBuilder.CreateIndex(
                name: "ix_live_sessions_instance_id",
                table: "live_sessions",
                column: "instance_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "instances");

            migrationBuilder.DropTable(
                name: "live_sessions");
        }
    }
}
