from __future__ import annotations

from pathlib import Path

import typer

from cityops.cli.common import DataDirOption, handles_domain_errors, platform_for, print_json
from cityops.core.security import new_password
from cityops.org import flows, service
from cityops.org.roles import Role

app = typer.Typer(no_args_is_help=True)


@app.command("create-staff")
@handles_domain_errors
def create_staff(username: str, role: str = typer.Option(..., help="admin|leader|dispatcher|handler|"
                                                                     "grid_worker|data_officer"),
                 region: str = typer.Option(..., help="区划代码 / region code of the scope"),
                 name: str = typer.Option("", help="显示名 / display name"),
                 department: str | None = typer.Option(None, help="部门编码 / department code"),
                 data_dir: Path | None = DataDirOption) -> None:
    """Add a staff member; prints the generated password once. 新增人员。"""
    password = new_password()
    with platform_for(data_dir) as platform:
        department_id = None
        if department:
            with platform.db.session() as session:
                found = service.get_department_by_code(session=session, code=department)
                if found is None:
                    raise typer.BadParameter(f"no department {department}", param_hint="--department")
                department_id = found.id
        staff_id = flows.create_staff(platform, actor=None, new=flows.NewStaff(
            username=username, display_name=name or username, password=password, role=role,
            region_code=region, department_id=department_id))
    print_json({"id": staff_id, "username": username, "password": password})


@app.command("create-api-key")
@handles_domain_errors
def create_api_key(name: str, region: str = typer.Option(..., help="区划代码 / region code"),
                   role: str = typer.Option(Role.SYSTEM.value), data_dir: Path | None = DataDirOption) -> None:
    """Create an API key for an external system; the key is printed once. 创建接口密钥。"""
    with platform_for(data_dir) as platform:
        key_id, token = flows.create_api_key(platform, actor=None, name=name, role=role, region_code=region)
    print_json({"id": key_id, "name": name, "api_key": token})


@app.command("departments")
@handles_domain_errors
def departments(data_dir: Path | None = DataDirOption) -> None:
    """List departments. 部门列表。"""
    with platform_for(data_dir) as platform, platform.db.session() as session:
        print_json([{"code": d.code, "name": d.name, "region_code": d.region_code}
                    for d in service.list_departments(session=session)])
