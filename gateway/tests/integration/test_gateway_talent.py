"""The Talent Factory through the gateway: roles per route, privacy of the public profile."""
import pytest
import requests

from gateway.service import GatewayService
from talent.service import TalentService

from .test_gateway_spine import free_port, token

pytestmark = pytest.mark.integration


@pytest.fixture
def api(container_factory, service_config):
    container_factory(TalentService, service_config("talent")).start()
    port = free_port()
    config = service_config("talent", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", DEMEU_DEV="1",
                            JWT_SECRET="test-secret", RPC_TIMEOUT=3)
    container_factory(GatewayService, config).start()
    return f"http://127.0.0.1:{port}"


def test_program_application_and_selection_over_http(api):
    mentor, talent, stranger = token(api, "mentor-1", "mentor"), token(api, "aliya"), token(api, "someone")
    profile = requests.post(f"{api}/v1/talents", headers=talent, json={
        "display_name": "Aliya", "birth_date": "2000-03-08", "region": "KZ-71", "fields": ["technology"],
    })
    assert profile.status_code == 201, profile.text
    public = requests.get(f"{api}/v1/talents/{profile.json()['id']}", headers=stranger).json()
    assert "birth_date" not in public and "iin" not in public and public["display_name"] == "Aliya"

    not_mentor = requests.post(f"{api}/v1/programs", headers=talent, json={})
    assert not_mentor.status_code == 403
    program = requests.post(f"{api}/v1/programs", headers=mentor, json={
        "kind": "master_class", "title": "Robotics with Arduino", "field": "technology", "seats": 1,
        "application_deadline": "2099-01-01T00:00:00Z", "starts_at": "2099-02-01T00:00:00Z",
    })
    assert program.status_code == 201, program.text
    program_id = program.json()["id"]
    application = requests.post(f"{api}/v1/programs/{program_id}/applications", headers=talent,
                                json={"motivation": "I build line-following robots."})
    assert application.status_code == 201, application.text
    again = requests.post(f"{api}/v1/programs/{program_id}/applications", headers=talent,
                          json={"motivation": "Twice?"})
    assert again.status_code == 409 and again.json()["code"] == "already_applied"
    assert requests.post(f"{api}/v1/applications/{application.json()['id']}/scores", headers=mentor,
                         json={"score": 9}).status_code == 200
    requests.post(f"{api}/v1/programs/{program_id}/select", headers=mentor).raise_for_status()
    mine = requests.get(f"{api}/v1/me/applications", headers=talent).json()["items"]
    assert mine[0]["status"] == "offered"
    assert requests.post(f"{api}/v1/applications/{mine[0]['id']}/accept", headers=talent).json()["status"] == "enrolled"
