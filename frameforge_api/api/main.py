from fastapi import APIRouter

from frameforge_api.api.routes import auth, jobs, videos

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth.router)
api_router.include_router(videos.router)
api_router.include_router(jobs.router)
