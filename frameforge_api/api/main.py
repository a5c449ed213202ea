from fastapi import APIRouter

from frameforge_api.api.routes import auth, jobs, videos
from frameforge_api.api.schemas import problem_responses

api_router = APIRouter(prefix="/api/v1", responses=problem_responses(401, 404, 409, 422, 500))
api_router.include_router(auth.router)
api_router.include_router(videos.router)
api_router.include_router(jobs.router)
